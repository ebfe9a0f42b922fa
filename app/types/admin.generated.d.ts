/* eslint-disable eslint-comments/disable-enable-pair */
/* eslint-disable eslint-comments/no-unlimited-disable */
/* eslint-disable */
import type * as AdminTypes from './admin.types.js';

export type AtelierSubscriptionCreateMutationVariables = AdminTypes.Exact<{
  name: AdminTypes.Scalars['String']['input'];
  returnUrl: AdminTypes.Scalars['URL']['input'];
  test?: AdminTypes.InputMaybe<AdminTypes.Scalars['Boolean']['input']>;
  lineItems: Array<AdminTypes.AppSubscriptionLineItemInput> | AdminTypes.AppSubscriptionLineItemInput;
}>;


export type AtelierSubscriptionCreateMutation = { appSubscriptionCreate?: AdminTypes.Maybe<(
    Pick<AdminTypes.AppSubscriptionCreatePayload, 'confirmationUrl'>
    & { appSubscription?: AdminTypes.Maybe<(
      Pick<AdminTypes.AppSubscription, 'id' | 'status'>
      & { lineItems: Array<Pick<AdminTypes.AppSubscriptionLineItem, 'id'>> }
    )>, userErrors: Array<Pick<AdminTypes.UserError, 'field' | 'message'>> }
  )> };

export type AtelierActiveSubscriptionsQueryVariables = AdminTypes.Exact<{ [key: string]: never; }>;


export type AtelierActiveSubscriptionsQuery = { currentAppInstallation: { activeSubscriptions: Array<(
      Pick<AdminTypes.AppSubscription, 'id' | 'name' | 'status' | 'test'>
      & { lineItems: Array<(
        Pick<AdminTypes.AppSubscriptionLineItem, 'id'>
        & { plan: { pricingDetails: { __typename: 'AppRecurringPricing' } | (
            { __typename: 'AppUsagePricing' }
            & Pick<AdminTypes.AppUsagePricing, 'terms'>
            & { cappedAmount: Pick<AdminTypes.MoneyV2, 'amount' | 'currencyCode'>, balanceUsed: Pick<AdminTypes.MoneyV2, 'amount' | 'currencyCode'> }
          ) } }
      )> }
    )> } };

export type AtelierUsageRecordCreateMutationVariables = AdminTypes.Exact<{
  lineItemId: AdminTypes.Scalars['ID']['input'];
  price: AdminTypes.MoneyInput;
  description: AdminTypes.Scalars['String']['input'];
  idempotencyKey?: AdminTypes.InputMaybe<AdminTypes.Scalars['String']['input']>;
}>;


export type AtelierUsageRecordCreateMutation = { appUsageRecordCreate?: AdminTypes.Maybe<{ appUsageRecord?: AdminTypes.Maybe<Pick<AdminTypes.AppUsageRecord, 'id'>>, userErrors: Array<Pick<AdminTypes.UserError, 'field' | 'message'>> }> };

export type AtelierListProductsQueryVariables = AdminTypes.Exact<{
  first: AdminTypes.Scalars['Int']['input'];
  after?: AdminTypes.InputMaybe<AdminTypes.Scalars['String']['input']>;
  query?: AdminTypes.InputMaybe<AdminTypes.Scalars['String']['input']>;
}>;


export type AtelierListProductsQuery = { products: { nodes: Array<(
      Pick<AdminTypes.Product, 'id' | 'title' | 'vendor' | 'productType' | 'status'>
      & { media: { nodes: Array<(
          { __typename: 'ExternalVideo' }
          & Pick<AdminTypes.ExternalVideo, 'id' | 'alt' | 'status' | 'mediaContentType'>
        ) | (
          { __typename: 'MediaImage' }
          & Pick<AdminTypes.MediaImage, 'id' | 'alt' | 'status' | 'mediaContentType'>
          & { image?: AdminTypes.Maybe<Pick<AdminTypes.Image, 'url' | 'width' | 'height'>> }
        ) | (
          { __typename: 'Model3d' }
          & Pick<AdminTypes.Model3d, 'id' | 'alt' | 'status' | 'mediaContentType'>
        ) | (
          { __typename: 'Video' }
          & Pick<AdminTypes.Video, 'id' | 'alt' | 'status' | 'mediaContentType'>
        )> } }
    )>, pageInfo: Pick<AdminTypes.PageInfo, 'hasNextPage' | 'endCursor'> } };

export type AtelierProductWithMediaQueryVariables = AdminTypes.Exact<{
  id: AdminTypes.Scalars['ID']['input'];
  mediaAfter?: AdminTypes.InputMaybe<AdminTypes.Scalars['String']['input']>;
}>;


export type AtelierProductWithMediaQuery = { product?: AdminTypes.Maybe<(
    Pick<AdminTypes.Product, 'id' | 'title' | 'vendor' | 'productType' | 'status'>
    & { media: { nodes: Array<(
        { __typename: 'ExternalVideo' }
        & Pick<AdminTypes.ExternalVideo, 'id' | 'alt' | 'status' | 'mediaContentType'>
      ) | (
        { __typename: 'MediaImage' }
        & Pick<AdminTypes.MediaImage, 'id' | 'alt' | 'status' | 'mediaContentType'>
        & { image?: AdminTypes.Maybe<Pick<AdminTypes.Image, 'url' | 'width' | 'height'>> }
      ) | (
        { __typename: 'Model3d' }
        & Pick<AdminTypes.Model3d, 'id' | 'alt' | 'status' | 'mediaContentType'>
      ) | (
        { __typename: 'Video' }
        & Pick<AdminTypes.Video, 'id' | 'alt' | 'status' | 'mediaContentType'>
      )>, pageInfo: Pick<AdminTypes.PageInfo, 'hasNextPage' | 'endCursor'> } }
  )> };

export type AtelierMediaImageQueryVariables = AdminTypes.Exact<{
  id: AdminTypes.Scalars['ID']['input'];
}>;


export type AtelierMediaImageQuery = { node?: AdminTypes.Maybe<(
    { __typename: 'AbandonedCheckout' }
    & Pick<AdminTypes.AbandonedCheckout, 'id'>
  ) | (
    { __typename: 'AbandonedCheckoutLineItem' }
    & Pick<AdminTypes.AbandonedCheckoutLineItem, 'id'>
  ) | (
    { __typename: 'Abandonment' }
    & Pick<AdminTypes.Abandonment, 'id'>
  ) | (
    { __typename: 'AddAllProductsOperation' }
    & Pick<AdminTypes.AddAllProductsOperation, 'id'>
  ) | (
    { __typename: 'AdditionalFee' }
    & Pick<AdminTypes.AdditionalFee, 'id'>
  ) | (
    { __typename: 'AnalyticsAnnotation' }
    & Pick<AdminTypes.AnalyticsAnnotation, 'id'>
  ) | (
    { __typename: 'AnalyticsTarget' }
    & Pick<AdminTypes.AnalyticsTarget, 'id'>
  ) | (
    { __typename: 'App' }
    & Pick<AdminTypes.App, 'id'>
  ) | (
    { __typename: 'AppCatalog' }
    & Pick<AdminTypes.AppCatalog, 'id'>
  ) | (
    { __typename: 'AppCredit' }
    & Pick<AdminTypes.AppCredit, 'id'>
  ) | (
    { __typename: 'AppInstallation' }
    & Pick<AdminTypes.AppInstallation, 'id'>
  ) | (
    { __typename: 'AppPurchaseOneTime' }
    & Pick<AdminTypes.AppPurchaseOneTime, 'id'>
  ) | (
    { __typename: 'AppRevenueAttributionRecord' }
    & Pick<AdminTypes.AppRevenueAttributionRecord, 'id'>
  ) | (
    { __typename: 'AppSubscription' }
    & Pick<AdminTypes.AppSubscription, 'id'>
  ) | (
    { __typename: 'AppUsageRecord' }
    & Pick<AdminTypes.AppUsageRecord, 'id'>
  ) | (
    { __typename: 'Article' }
    & Pick<AdminTypes.Article, 'id'>
  ) | (
    { __typename: 'BasicEvent' }
    & Pick<AdminTypes.BasicEvent, 'id'>
  ) | (
    { __typename: 'Blog' }
    & Pick<AdminTypes.Blog, 'id'>
  ) | (
    { __typename: 'BulkOperation' }
    & Pick<AdminTypes.BulkOperation, 'id'>
  ) | (
    { __typename: 'BusinessEntity' }
    & Pick<AdminTypes.BusinessEntity, 'id'>
  ) | (
    { __typename: 'CalculatedOrder' }
    & Pick<AdminTypes.CalculatedOrder, 'id'>
  ) | (
    { __typename: 'CartTransform' }
    & Pick<AdminTypes.CartTransform, 'id'>
  ) | (
    { __typename: 'CashDrawer' }
    & Pick<AdminTypes.CashDrawer, 'id'>
  ) | (
    { __typename: 'CashManagementCustomReasonCode' }
    & Pick<AdminTypes.CashManagementCustomReasonCode, 'id'>
  ) | (
    { __typename: 'CashManagementDefaultReasonCode' }
    & Pick<AdminTypes.CashManagementDefaultReasonCode, 'id'>
  ) | (
    { __typename: 'CashManagementSystemReasonCode' }
    & Pick<AdminTypes.CashManagementSystemReasonCode, 'id'>
  ) | (
    { __typename: 'CashTrackingAdjustment' }
    & Pick<AdminTypes.CashTrackingAdjustment, 'id'>
  ) | (
    { __typename: 'CashTrackingSession' }
    & Pick<AdminTypes.CashTrackingSession, 'id'>
  ) | (
    { __typename: 'CatalogCsvOperation' }
    & Pick<AdminTypes.CatalogCsvOperation, 'id'>
  ) | (
    { __typename: 'Channel' }
    & Pick<AdminTypes.Channel, 'id'>
  ) | (
    { __typename: 'ChannelDefinition' }
    & Pick<AdminTypes.ChannelDefinition, 'id'>
  ) | (
    { __typename: 'ChannelInformation' }
    & Pick<AdminTypes.ChannelInformation, 'id'>
  ) | (
    { __typename: 'CheckoutAndAccountsConfiguration' }
    & Pick<AdminTypes.CheckoutAndAccountsConfiguration, 'id'>
  ) | (
    { __typename: 'CheckoutAndAccountsConfigurationOverride' }
    & Pick<AdminTypes.CheckoutAndAccountsConfigurationOverride, 'id'>
  ) | (
    { __typename: 'CheckoutProfile' }
    & Pick<AdminTypes.CheckoutProfile, 'id'>
  ) | (
    { __typename: 'Collection' }
    & Pick<AdminTypes.Collection, 'id'>
  ) | (
    { __typename: 'CollectionConditionsSource' }
    & Pick<AdminTypes.CollectionConditionsSource, 'id'>
  ) | (
    { __typename: 'CollectionSubCollectionsSource' }
    & Pick<AdminTypes.CollectionSubCollectionsSource, 'id'>
  ) | (
    { __typename: 'Comment' }
    & Pick<AdminTypes.Comment, 'id'>
  ) | (
    { __typename: 'CommentEvent' }
    & Pick<AdminTypes.CommentEvent, 'id'>
  ) | (
    { __typename: 'Company' }
    & Pick<AdminTypes.Company, 'id'>
  ) | (
    { __typename: 'CompanyAddress' }
    & Pick<AdminTypes.CompanyAddress, 'id'>
  ) | (
    { __typename: 'CompanyContact' }
    & Pick<AdminTypes.CompanyContact, 'id'>
  ) | (
    { __typename: 'CompanyContactRole' }
    & Pick<AdminTypes.CompanyContactRole, 'id'>
  ) | (
    { __typename: 'CompanyContactRoleAssignment' }
    & Pick<AdminTypes.CompanyContactRoleAssignment, 'id'>
  ) | (
    { __typename: 'CompanyLocation' }
    & Pick<AdminTypes.CompanyLocation, 'id'>
  ) | (
    { __typename: 'CompanyLocationCatalog' }
    & Pick<AdminTypes.CompanyLocationCatalog, 'id'>
  ) | (
    { __typename: 'CompanyLocationStaffMemberAssignment' }
    & Pick<AdminTypes.CompanyLocationStaffMemberAssignment, 'id'>
  ) | (
    { __typename: 'ConsentPolicy' }
    & Pick<AdminTypes.ConsentPolicy, 'id'>
  ) | (
    { __typename: 'CurrencyExchangeAdjustment' }
    & Pick<AdminTypes.CurrencyExchangeAdjustment, 'id'>
  ) | (
    { __typename: 'Customer' }
    & Pick<AdminTypes.Customer, 'id'>
  ) | (
    { __typename: 'CustomerAccountAppExtensionPage' }
    & Pick<AdminTypes.CustomerAccountAppExtensionPage, 'id'>
  ) | (
    { __typename: 'CustomerAccountNativePage' }
    & Pick<AdminTypes.CustomerAccountNativePage, 'id'>
  ) | (
    { __typename: 'CustomerPaymentMethod' }
    & Pick<AdminTypes.CustomerPaymentMethod, 'id'>
  ) | (
    { __typename: 'CustomerSegmentMembersQuery' }
    & Pick<AdminTypes.CustomerSegmentMembersQuery, 'id'>
  ) | (
    { __typename: 'CustomerVisit' }
    & Pick<AdminTypes.CustomerVisit, 'id'>
  ) | (
    { __typename: 'DeliveryCarrierService' }
    & Pick<AdminTypes.DeliveryCarrierService, 'id'>
  ) | (
    { __typename: 'DeliveryCondition' }
    & Pick<AdminTypes.DeliveryCondition, 'id'>
  ) | (
    { __typename: 'DeliveryCountry' }
    & Pick<AdminTypes.DeliveryCountry, 'id'>
  ) | (
    { __typename: 'DeliveryCustomization' }
    & Pick<AdminTypes.DeliveryCustomization, 'id'>
  ) | (
    { __typename: 'DeliveryLocationGroup' }
    & Pick<AdminTypes.DeliveryLocationGroup, 'id'>
  ) | (
    { __typename: 'DeliveryMethod' }
    & Pick<AdminTypes.DeliveryMethod, 'id'>
  ) | (
    { __typename: 'DeliveryMethodDefinition' }
    & Pick<AdminTypes.DeliveryMethodDefinition, 'id'>
  ) | (
    { __typename: 'DeliveryParticipant' }
    & Pick<AdminTypes.DeliveryParticipant, 'id'>
  ) | (
    { __typename: 'DeliveryProfile' }
    & Pick<AdminTypes.DeliveryProfile, 'id'>
  ) | (
    { __typename: 'DeliveryProfileItem' }
    & Pick<AdminTypes.DeliveryProfileItem, 'id'>
  ) | (
    { __typename: 'DeliveryPromiseParticipant' }
    & Pick<AdminTypes.DeliveryPromiseParticipant, 'id'>
  ) | (
    { __typename: 'DeliveryPromiseProvider' }
    & Pick<AdminTypes.DeliveryPromiseProvider, 'id'>
  ) | (
    { __typename: 'DeliveryProvince' }
    & Pick<AdminTypes.DeliveryProvince, 'id'>
  ) | (
    { __typename: 'DeliveryRateDefinition' }
    & Pick<AdminTypes.DeliveryRateDefinition, 'id'>
  ) | (
    { __typename: 'DeliveryZone' }
    & Pick<AdminTypes.DeliveryZone, 'id'>
  ) | (
    { __typename: 'DiscountAutomaticBxgy' }
    & Pick<AdminTypes.DiscountAutomaticBxgy, 'id'>
  ) | (
    { __typename: 'DiscountAutomaticNode' }
    & Pick<AdminTypes.DiscountAutomaticNode, 'id'>
  ) | (
    { __typename: 'DiscountCodeNode' }
    & Pick<AdminTypes.DiscountCodeNode, 'id'>
  ) | (
    { __typename: 'DiscountNode' }
    & Pick<AdminTypes.DiscountNode, 'id'>
  ) | (
    { __typename: 'DiscountRedeemCodeBulkCreation' }
    & Pick<AdminTypes.DiscountRedeemCodeBulkCreation, 'id'>
  ) | (
    { __typename: 'Domain' }
    & Pick<AdminTypes.Domain, 'id'>
  ) | (
    { __typename: 'DraftOrder' }
    & Pick<AdminTypes.DraftOrder, 'id'>
  ) | (
    { __typename: 'DraftOrderLineItem' }
    & Pick<AdminTypes.DraftOrderLineItem, 'id'>
  ) | (
    { __typename: 'DraftOrderTag' }
    & Pick<AdminTypes.DraftOrderTag, 'id'>
  ) | (
    { __typename: 'Duty' }
    & Pick<AdminTypes.Duty, 'id'>
  ) | (
    { __typename: 'ExchangeLineItem' }
    & Pick<AdminTypes.ExchangeLineItem, 'id'>
  ) | (
    { __typename: 'ExternalVideo' }
    & Pick<AdminTypes.ExternalVideo, 'id'>
  ) | (
    { __typename: 'Fulfillment' }
    & Pick<AdminTypes.Fulfillment, 'id'>
  ) | (
    { __typename: 'FulfillmentConstraintRule' }
    & Pick<AdminTypes.FulfillmentConstraintRule, 'id'>
  ) | (
    { __typename: 'FulfillmentEvent' }
    & Pick<AdminTypes.FulfillmentEvent, 'id'>
  ) | (
    { __typename: 'FulfillmentHold' }
    & Pick<AdminTypes.FulfillmentHold, 'id'>
  ) | (
    { __typename: 'FulfillmentLineItem' }
    & Pick<AdminTypes.FulfillmentLineItem, 'id'>
  ) | (
    { __typename: 'FulfillmentOrder' }
    & Pick<AdminTypes.FulfillmentOrder, 'id'>
  ) | (
    { __typename: 'FulfillmentOrderDestination' }
    & Pick<AdminTypes.FulfillmentOrderDestination, 'id'>
  ) | (
    { __typename: 'FulfillmentOrderLineItem' }
    & Pick<AdminTypes.FulfillmentOrderLineItem, 'id'>
  ) | (
    { __typename: 'FulfillmentOrderMerchantRequest' }
    & Pick<AdminTypes.FulfillmentOrderMerchantRequest, 'id'>
  ) | (
    { __typename: 'GenericFile' }
    & Pick<AdminTypes.GenericFile, 'id'>
  ) | (
    { __typename: 'GiftCard' }
    & Pick<AdminTypes.GiftCard, 'id'>
  ) | (
    { __typename: 'GiftCardCashOutTransaction' }
    & Pick<AdminTypes.GiftCardCashOutTransaction, 'id'>
  ) | (
    { __typename: 'GiftCardCreditTransaction' }
    & Pick<AdminTypes.GiftCardCreditTransaction, 'id'>
  ) | (
    { __typename: 'GiftCardDebitTransaction' }
    & Pick<AdminTypes.GiftCardDebitTransaction, 'id'>
  ) | (
    { __typename: 'IdentityProviderSubject' }
    & Pick<AdminTypes.IdentityProviderSubject, 'id'>
  ) | (
    { __typename: 'InventoryAdjustmentGroup' }
    & Pick<AdminTypes.InventoryAdjustmentGroup, 'id'>
  ) | (
    { __typename: 'InventoryItem' }
    & Pick<AdminTypes.InventoryItem, 'id'>
  ) | (
    { __typename: 'InventoryItemMeasurement' }
    & Pick<AdminTypes.InventoryItemMeasurement, 'id'>
  ) | (
    { __typename: 'InventoryLevel' }
    & Pick<AdminTypes.InventoryLevel, 'id'>
  ) | (
    { __typename: 'InventoryQuantity' }
    & Pick<AdminTypes.InventoryQuantity, 'id'>
  ) | (
    { __typename: 'InventoryShipment' }
    & Pick<AdminTypes.InventoryShipment, 'id'>
  ) | (
    { __typename: 'InventoryShipmentLineItem' }
    & Pick<AdminTypes.InventoryShipmentLineItem, 'id'>
  ) | (
    { __typename: 'InventoryTransfer' }
    & Pick<AdminTypes.InventoryTransfer, 'id'>
  ) | (
    { __typename: 'InventoryTransferLineItem' }
    & Pick<AdminTypes.InventoryTransferLineItem, 'id'>
  ) | (
    { __typename: 'LineItem' }
    & Pick<AdminTypes.LineItem, 'id'>
  ) | (
    { __typename: 'LineItemGroup' }
    & Pick<AdminTypes.LineItemGroup, 'id'>
  ) | (
    { __typename: 'Location' }
    & Pick<AdminTypes.Location, 'id'>
  ) | (
    { __typename: 'MailingAddress' }
    & Pick<AdminTypes.MailingAddress, 'id'>
  ) | (
    { __typename: 'Market' }
    & Pick<AdminTypes.Market, 'id'>
  ) | (
    { __typename: 'MarketCatalog' }
    & Pick<AdminTypes.MarketCatalog, 'id'>
  ) | (
    { __typename: 'MarketRegionCountry' }
    & Pick<AdminTypes.MarketRegionCountry, 'id'>
  ) | (
    { __typename: 'MarketRegionSubdivision' }
    & Pick<AdminTypes.MarketRegionSubdivision, 'id'>
  ) | (
    { __typename: 'MarketWebPresence' }
    & Pick<AdminTypes.MarketWebPresence, 'id'>
  ) | (
    { __typename: 'MarketingActivity' }
    & Pick<AdminTypes.MarketingActivity, 'id'>
  ) | (
    { __typename: 'MarketingEvent' }
    & Pick<AdminTypes.MarketingEvent, 'id'>
  ) | (
    { __typename: 'MediaImage' }
    & Pick<AdminTypes.MediaImage, 'alt' | 'status' | 'mediaContentType' | 'id'>
    & { image?: AdminTypes.Maybe<Pick<AdminTypes.Image, 'url' | 'width' | 'height'>>, mediaErrors: Array<Pick<AdminTypes.MediaError, 'code' | 'message' | 'details'>> }
  ) | (
    { __typename: 'Menu' }
    & Pick<AdminTypes.Menu, 'id'>
  ) | (
    { __typename: 'Metafield' }
    & Pick<AdminTypes.Metafield, 'id'>
  ) | (
    { __typename: 'MetafieldDefinition' }
    & Pick<AdminTypes.MetafieldDefinition, 'id'>
  ) | (
    { __typename: 'Metaobject' }
    & Pick<AdminTypes.Metaobject, 'id'>
  ) | (
    { __typename: 'MetaobjectDefinition' }
    & Pick<AdminTypes.MetaobjectDefinition, 'id'>
  ) | (
    { __typename: 'Model3d' }
    & Pick<AdminTypes.Model3d, 'id'>
  ) | (
    { __typename: 'OnlineStoreTheme' }
    & Pick<AdminTypes.OnlineStoreTheme, 'id'>
  ) | (
    { __typename: 'Order' }
    & Pick<AdminTypes.Order, 'id'>
  ) | (
    { __typename: 'OrderAdjustment' }
    & Pick<AdminTypes.OrderAdjustment, 'id'>
  ) | (
    { __typename: 'OrderAttributionDefinition' }
    & Pick<AdminTypes.OrderAttributionDefinition, 'id'>
  ) | (
    { __typename: 'OrderCancelJobResult' }
    & Pick<AdminTypes.OrderCancelJobResult, 'id'>
  ) | (
    { __typename: 'OrderCreateMandatePaymentJobResult' }
    & Pick<AdminTypes.OrderCreateMandatePaymentJobResult, 'id'>
  ) | (
    { __typename: 'OrderDisputeSummary' }
    & Pick<AdminTypes.OrderDisputeSummary, 'id'>
  ) | (
    { __typename: 'OrderEditSession' }
    & Pick<AdminTypes.OrderEditSession, 'id'>
  ) | (
    { __typename: 'OrderTransaction' }
    & Pick<AdminTypes.OrderTransaction, 'id'>
  ) | (
    { __typename: 'Page' }
    & Pick<AdminTypes.Page, 'id'>
  ) | (
    { __typename: 'PaymentCustomization' }
    & Pick<AdminTypes.PaymentCustomization, 'id'>
  ) | (
    { __typename: 'PaymentMandate' }
    & Pick<AdminTypes.PaymentMandate, 'id'>
  ) | (
    { __typename: 'PaymentSchedule' }
    & Pick<AdminTypes.PaymentSchedule, 'id'>
  ) | (
    { __typename: 'PaymentTerms' }
    & Pick<AdminTypes.PaymentTerms, 'id'>
  ) | (
    { __typename: 'PaymentTermsTemplate' }
    & Pick<AdminTypes.PaymentTermsTemplate, 'id'>
  ) | (
    { __typename: 'PointOfSaleDevice' }
    & Pick<AdminTypes.PointOfSaleDevice, 'id'>
  ) | (
    { __typename: 'PointOfSaleDevicePaymentSession' }
    & Pick<AdminTypes.PointOfSaleDevicePaymentSession, 'id'>
  ) | (
    { __typename: 'PriceList' }
    & Pick<AdminTypes.PriceList, 'id'>
  ) | (
    { __typename: 'Product' }
    & Pick<AdminTypes.Product, 'id'>
  ) | (
    { __typename: 'ProductBundleOperation' }
    & Pick<AdminTypes.ProductBundleOperation, 'id'>
  ) | (
    { __typename: 'ProductDeleteOperation' }
    & Pick<AdminTypes.ProductDeleteOperation, 'id'>
  ) | (
    { __typename: 'ProductDuplicateOperation' }
    & Pick<AdminTypes.ProductDuplicateOperation, 'id'>
  ) | (
    { __typename: 'ProductFeed' }
    & Pick<AdminTypes.ProductFeed, 'id'>
  ) | (
    { __typename: 'ProductOption' }
    & Pick<AdminTypes.ProductOption, 'id'>
  ) | (
    { __typename: 'ProductOptionValue' }
    & Pick<AdminTypes.ProductOptionValue, 'id'>
  ) | (
    { __typename: 'ProductSetOperation' }
    & Pick<AdminTypes.ProductSetOperation, 'id'>
  ) | (
    { __typename: 'ProductTaxonomyNode' }
    & Pick<AdminTypes.ProductTaxonomyNode, 'id'>
  ) | (
    { __typename: 'ProductVariant' }
    & Pick<AdminTypes.ProductVariant, 'id'>
  ) | (
    { __typename: 'ProductVariantComponent' }
    & Pick<AdminTypes.ProductVariantComponent, 'id'>
  ) | (
    { __typename: 'Publication' }
    & Pick<AdminTypes.Publication, 'id'>
  ) | (
    { __typename: 'PublicationResourceOperation' }
    & Pick<AdminTypes.PublicationResourceOperation, 'id'>
  ) | (
    { __typename: 'QuantityPriceBreak' }
    & Pick<AdminTypes.QuantityPriceBreak, 'id'>
  ) | (
    { __typename: 'Refund' }
    & Pick<AdminTypes.Refund, 'id'>
  ) | (
    { __typename: 'RefundShippingLine' }
    & Pick<AdminTypes.RefundShippingLine, 'id'>
  ) | (
    { __typename: 'Return' }
    & Pick<AdminTypes.Return, 'id'>
  ) | (
    { __typename: 'ReturnLineItem' }
    & Pick<AdminTypes.ReturnLineItem, 'id'>
  ) | (
    { __typename: 'ReturnReasonDefinition' }
    & Pick<AdminTypes.ReturnReasonDefinition, 'id'>
  ) | (
    { __typename: 'ReturnableFulfillment' }
    & Pick<AdminTypes.ReturnableFulfillment, 'id'>
  ) | (
    { __typename: 'ReverseDelivery' }
    & Pick<AdminTypes.ReverseDelivery, 'id'>
  ) | (
    { __typename: 'ReverseDeliveryLineItem' }
    & Pick<AdminTypes.ReverseDeliveryLineItem, 'id'>
  ) | (
    { __typename: 'ReverseFulfillmentOrder' }
    & Pick<AdminTypes.ReverseFulfillmentOrder, 'id'>
  ) | (
    { __typename: 'ReverseFulfillmentOrderDisposition' }
    & Pick<AdminTypes.ReverseFulfillmentOrderDisposition, 'id'>
  ) | (
    { __typename: 'ReverseFulfillmentOrderLineItem' }
    & Pick<AdminTypes.ReverseFulfillmentOrderLineItem, 'id'>
  ) | (
    { __typename: 'SaleAdditionalFee' }
    & Pick<AdminTypes.SaleAdditionalFee, 'id'>
  ) | (
    { __typename: 'SavedSearch' }
    & Pick<AdminTypes.SavedSearch, 'id'>
  ) | (
    { __typename: 'ScriptTag' }
    & Pick<AdminTypes.ScriptTag, 'id'>
  ) | (
    { __typename: 'Segment' }
    & Pick<AdminTypes.Segment, 'id'>
  ) | (
    { __typename: 'SellingPlan' }
    & Pick<AdminTypes.SellingPlan, 'id'>
  ) | (
    { __typename: 'SellingPlanGroup' }
    & Pick<AdminTypes.SellingPlanGroup, 'id'>
  ) | (
    { __typename: 'ServerPixel' }
    & Pick<AdminTypes.ServerPixel, 'id'>
  ) | (
    { __typename: 'ShippingLabel' }
    & Pick<AdminTypes.ShippingLabel, 'id'>
  ) | (
    { __typename: 'ShippingLabelPurchaseResult' }
    & Pick<AdminTypes.ShippingLabelPurchaseResult, 'id'>
  ) | (
    { __typename: 'Shop' }
    & Pick<AdminTypes.Shop, 'id'>
  ) | (
    { __typename: 'ShopAddress' }
    & Pick<AdminTypes.ShopAddress, 'id'>
  ) | (
    { __typename: 'ShopPolicy' }
    & Pick<AdminTypes.ShopPolicy, 'id'>
  ) | (
    { __typename: 'ShopifyPaymentsAccount' }
    & Pick<AdminTypes.ShopifyPaymentsAccount, 'id'>
  ) | (
    { __typename: 'ShopifyPaymentsBalanceTransaction' }
    & Pick<AdminTypes.ShopifyPaymentsBalanceTransaction, 'id'>
  ) | (
    { __typename: 'ShopifyPaymentsBankAccount' }
    & Pick<AdminTypes.ShopifyPaymentsBankAccount, 'id'>
  ) | (
    { __typename: 'ShopifyPaymentsDispute' }
    & Pick<AdminTypes.ShopifyPaymentsDispute, 'id'>
  ) | (
    { __typename: 'ShopifyPaymentsDisputeEvidence' }
    & Pick<AdminTypes.ShopifyPaymentsDisputeEvidence, 'id'>
  ) | (
    { __typename: 'ShopifyPaymentsDisputeFileUpload' }
    & Pick<AdminTypes.ShopifyPaymentsDisputeFileUpload, 'id'>
  ) | (
    { __typename: 'ShopifyPaymentsDisputeFulfillment' }
    & Pick<AdminTypes.ShopifyPaymentsDisputeFulfillment, 'id'>
  ) | (
    { __typename: 'ShopifyPaymentsPayout' }
    & Pick<AdminTypes.ShopifyPaymentsPayout, 'id'>
  ) | (
    { __typename: 'StaffMember' }
    & Pick<AdminTypes.StaffMember, 'id'>
  ) | (
    { __typename: 'StandardMetafieldDefinitionTemplate' }
    & Pick<AdminTypes.StandardMetafieldDefinitionTemplate, 'id'>
  ) | (
    { __typename: 'StoreCreditAccount' }
    & Pick<AdminTypes.StoreCreditAccount, 'id'>
  ) | (
    { __typename: 'StoreCreditAccountCreditTransaction' }
    & Pick<AdminTypes.StoreCreditAccountCreditTransaction, 'id'>
  ) | (
    { __typename: 'StoreCreditAccountDebitRevertTransaction' }
    & Pick<AdminTypes.StoreCreditAccountDebitRevertTransaction, 'id'>
  ) | (
    { __typename: 'StoreCreditAccountDebitTransaction' }
    & Pick<AdminTypes.StoreCreditAccountDebitTransaction, 'id'>
  ) | (
    { __typename: 'StorefrontAccessToken' }
    & Pick<AdminTypes.StorefrontAccessToken, 'id'>
  ) | (
    { __typename: 'SubscriptionBillingAttempt' }
    & Pick<AdminTypes.SubscriptionBillingAttempt, 'id'>
  ) | (
    { __typename: 'SubscriptionContract' }
    & Pick<AdminTypes.SubscriptionContract, 'id'>
  ) | (
    { __typename: 'SubscriptionDraft' }
    & Pick<AdminTypes.SubscriptionDraft, 'id'>
  ) | (
    { __typename: 'TaxonomyAttribute' }
    & Pick<AdminTypes.TaxonomyAttribute, 'id'>
  ) | (
    { __typename: 'TaxonomyCategory' }
    & Pick<AdminTypes.TaxonomyCategory, 'id'>
  ) | (
    { __typename: 'TaxonomyChoiceListAttribute' }
    & Pick<AdminTypes.TaxonomyChoiceListAttribute, 'id'>
  ) | (
    { __typename: 'TaxonomyMeasurementAttribute' }
    & Pick<AdminTypes.TaxonomyMeasurementAttribute, 'id'>
  ) | (
    { __typename: 'TaxonomyValue' }
    & Pick<AdminTypes.TaxonomyValue, 'id'>
  ) | (
    { __typename: 'TenderTransaction' }
    & Pick<AdminTypes.TenderTransaction, 'id'>
  ) | (
    { __typename: 'TransactionFee' }
    & Pick<AdminTypes.TransactionFee, 'id'>
  ) | (
    { __typename: 'UnverifiedReturnLineItem' }
    & Pick<AdminTypes.UnverifiedReturnLineItem, 'id'>
  ) | (
    { __typename: 'UrlRedirect' }
    & Pick<AdminTypes.UrlRedirect, 'id'>
  ) | (
    { __typename: 'UrlRedirectImport' }
    & Pick<AdminTypes.UrlRedirectImport, 'id'>
  ) | (
    { __typename: 'Validation' }
    & Pick<AdminTypes.Validation, 'id'>
  ) | (
    { __typename: 'Video' }
    & Pick<AdminTypes.Video, 'id'>
  ) | (
    { __typename: 'WebPixel' }
    & Pick<AdminTypes.WebPixel, 'id'>
  ) | (
    { __typename: 'WebhookSubscription' }
    & Pick<AdminTypes.WebhookSubscription, 'id'>
  )> };

export type AtelierStagedUploadsCreateMutationVariables = AdminTypes.Exact<{
  input: Array<AdminTypes.StagedUploadInput> | AdminTypes.StagedUploadInput;
}>;


export type AtelierStagedUploadsCreateMutation = { stagedUploadsCreate?: AdminTypes.Maybe<{ stagedTargets?: AdminTypes.Maybe<Array<(
      Pick<AdminTypes.StagedMediaUploadTarget, 'url' | 'resourceUrl'>
      & { parameters: Array<Pick<AdminTypes.StagedUploadParameter, 'name' | 'value'>> }
    )>>, userErrors: Array<Pick<AdminTypes.UserError, 'field' | 'message'>> }> };

export type AtelierProductAttachMediaMutationVariables = AdminTypes.Exact<{
  product: AdminTypes.ProductUpdateInput;
  media: Array<AdminTypes.CreateMediaInput> | AdminTypes.CreateMediaInput;
}>;


export type AtelierProductAttachMediaMutation = { productUpdate?: AdminTypes.Maybe<{ product?: AdminTypes.Maybe<(
      Pick<AdminTypes.Product, 'id'>
      & { media: { nodes: Array<Pick<AdminTypes.ExternalVideo, 'id' | 'alt' | 'status' | 'mediaContentType'> | Pick<AdminTypes.MediaImage, 'id' | 'alt' | 'status' | 'mediaContentType'> | Pick<AdminTypes.Model3d, 'id' | 'alt' | 'status' | 'mediaContentType'> | Pick<AdminTypes.Video, 'id' | 'alt' | 'status' | 'mediaContentType'>> } }
    )>, userErrors: Array<Pick<AdminTypes.UserError, 'field' | 'message'>> }> };

export type AtelierProductReorderMediaMutationVariables = AdminTypes.Exact<{
  id: AdminTypes.Scalars['ID']['input'];
  moves: Array<AdminTypes.MoveInput> | AdminTypes.MoveInput;
}>;


export type AtelierProductReorderMediaMutation = { productReorderMedia?: AdminTypes.Maybe<{ job?: AdminTypes.Maybe<Pick<AdminTypes.Job, 'id' | 'done'>>, mediaUserErrors: Array<Pick<AdminTypes.MediaUserError, 'field' | 'message' | 'code'>> }> };

export type AtelierJobStatusQueryVariables = AdminTypes.Exact<{
  id: AdminTypes.Scalars['ID']['input'];
}>;


export type AtelierJobStatusQuery = { job?: AdminTypes.Maybe<Pick<AdminTypes.Job, 'id' | 'done'>> };

export type AtelierFileUpdateMutationVariables = AdminTypes.Exact<{
  files: Array<AdminTypes.FileUpdateInput> | AdminTypes.FileUpdateInput;
}>;


export type AtelierFileUpdateMutation = { fileUpdate?: AdminTypes.Maybe<{ files?: AdminTypes.Maybe<Array<Pick<AdminTypes.ExternalVideo, 'id'> | Pick<AdminTypes.GenericFile, 'id'> | Pick<AdminTypes.MediaImage, 'id'> | Pick<AdminTypes.Model3d, 'id'> | Pick<AdminTypes.Video, 'id'>>>, userErrors: Array<Pick<AdminTypes.FilesUserError, 'field' | 'message' | 'code'>> }> };

export type AtelierFileDeleteMutationVariables = AdminTypes.Exact<{
  fileIds: Array<AdminTypes.Scalars['ID']['input']> | AdminTypes.Scalars['ID']['input'];
}>;


export type AtelierFileDeleteMutation = { fileDelete?: AdminTypes.Maybe<(
    Pick<AdminTypes.FileDeletePayload, 'deletedFileIds'>
    & { userErrors: Array<Pick<AdminTypes.FilesUserError, 'field' | 'message' | 'code'>> }
  )> };

export type AtelierListCollectionsQueryVariables = AdminTypes.Exact<{
  first: AdminTypes.Scalars['Int']['input'];
}>;


export type AtelierListCollectionsQuery = { collections: { nodes: Array<Pick<AdminTypes.Collection, 'id' | 'title'>> } };

export type AtelierBulkOperationRunQueryMutationVariables = AdminTypes.Exact<{
  query: AdminTypes.Scalars['String']['input'];
}>;


export type AtelierBulkOperationRunQueryMutation = { bulkOperationRunQuery?: AdminTypes.Maybe<{ bulkOperation?: AdminTypes.Maybe<Pick<AdminTypes.BulkOperation, 'id' | 'status'>>, userErrors: Array<Pick<AdminTypes.BulkOperationUserError, 'field' | 'message' | 'code'>> }> };

export type AtelierBulkOperationQueryVariables = AdminTypes.Exact<{
  id: AdminTypes.Scalars['ID']['input'];
}>;


export type AtelierBulkOperationQuery = { bulkOperation?: AdminTypes.Maybe<Pick<AdminTypes.BulkOperation, 'id' | 'status' | 'errorCode' | 'objectCount' | 'rootObjectCount' | 'url'>> };

interface GeneratedQueryTypes {
  "#graphql\n  query AtelierActiveSubscriptions {\n    currentAppInstallation {\n      activeSubscriptions {\n        id\n        name\n        status\n        test\n        lineItems {\n          id\n          plan {\n            pricingDetails {\n              __typename\n              ... on AppUsagePricing {\n                terms\n                cappedAmount { amount currencyCode }\n                balanceUsed { amount currencyCode }\n              }\n            }\n          }\n        }\n      }\n    }\n  }": {return: AtelierActiveSubscriptionsQuery, variables: AtelierActiveSubscriptionsQueryVariables},
  "#graphql\n  query AtelierListProducts($first: Int!, $after: String, $query: String) {\n    products(first: $first, after: $after, query: $query, sortKey: TITLE) {\n      nodes {\n        id\n        title\n        vendor\n        productType\n        status\n        media(first: 10, sortKey: POSITION) {\n          nodes {\n            __typename\n            id\n            alt\n            status\n            mediaContentType\n            ... on MediaImage {\n              image {\n                url\n                width\n                height\n              }\n            }\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": {return: AtelierListProductsQuery, variables: AtelierListProductsQueryVariables},
  "#graphql\n  query AtelierProductWithMedia($id: ID!, $mediaAfter: String) {\n    product(id: $id) {\n      id\n      title\n      vendor\n      productType\n      status\n      media(first: 50, after: $mediaAfter, sortKey: POSITION) {\n        nodes {\n          __typename\n          id\n          alt\n          status\n          mediaContentType\n          ... on MediaImage {\n            image {\n              url\n              width\n              height\n            }\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": {return: AtelierProductWithMediaQuery, variables: AtelierProductWithMediaQueryVariables},
  "#graphql\n  query AtelierMediaImage($id: ID!) {\n    node(id: $id) {\n      __typename\n      id\n      ... on MediaImage {\n        alt\n        status\n        mediaContentType\n        image {\n          url\n          width\n          height\n        }\n        mediaErrors {\n          code\n          message\n          details\n        }\n      }\n    }\n  }\n": {return: AtelierMediaImageQuery, variables: AtelierMediaImageQueryVariables},
  "#graphql\n  query AtelierJobStatus($id: ID!) {\n    job(id: $id) {\n      id\n      done\n    }\n  }\n": {return: AtelierJobStatusQuery, variables: AtelierJobStatusQueryVariables},
  "#graphql\n  query AtelierListCollections($first: Int!) {\n    collections(first: $first, sortKey: TITLE) {\n      nodes {\n        id\n        title\n      }\n    }\n  }": {return: AtelierListCollectionsQuery, variables: AtelierListCollectionsQueryVariables},
  "#graphql\n  query AtelierBulkOperation($id: ID!) {\n    bulkOperation(id: $id) {\n      id\n      status\n      errorCode\n      objectCount\n      rootObjectCount\n      url\n    }\n  }\n": {return: AtelierBulkOperationQuery, variables: AtelierBulkOperationQueryVariables},
}

interface GeneratedMutationTypes {
  "#graphql\n  mutation AtelierSubscriptionCreate($name: String!, $returnUrl: URL!, $test: Boolean, $lineItems: [AppSubscriptionLineItemInput!]!) {\n    appSubscriptionCreate(name: $name, returnUrl: $returnUrl, test: $test, lineItems: $lineItems) {\n      appSubscription { id status lineItems { id } }\n      confirmationUrl\n      userErrors { field message }\n    }\n  }": {return: AtelierSubscriptionCreateMutation, variables: AtelierSubscriptionCreateMutationVariables},
  "#graphql\n  mutation AtelierUsageRecordCreate($lineItemId: ID!, $price: MoneyInput!, $description: String!, $idempotencyKey: String) {\n    appUsageRecordCreate(subscriptionLineItemId: $lineItemId, price: $price, description: $description, idempotencyKey: $idempotencyKey) {\n      appUsageRecord { id }\n      userErrors { field message }\n    }\n  }": {return: AtelierUsageRecordCreateMutation, variables: AtelierUsageRecordCreateMutationVariables},
  "#graphql\n  mutation AtelierStagedUploadsCreate($input: [StagedUploadInput!]!) {\n    stagedUploadsCreate(input: $input) {\n      stagedTargets {\n        url\n        resourceUrl\n        parameters {\n          name\n          value\n        }\n      }\n      userErrors {\n        field\n        message\n      }\n    }\n  }\n": {return: AtelierStagedUploadsCreateMutation, variables: AtelierStagedUploadsCreateMutationVariables},
  "#graphql\n  mutation AtelierProductAttachMedia($product: ProductUpdateInput!, $media: [CreateMediaInput!]!) {\n    productUpdate(product: $product, media: $media) {\n      product {\n        id\n        media(last: 5, sortKey: POSITION) {\n          nodes {\n            id\n            alt\n            status\n            mediaContentType\n          }\n        }\n      }\n      userErrors {\n        field\n        message\n      }\n    }\n  }\n": {return: AtelierProductAttachMediaMutation, variables: AtelierProductAttachMediaMutationVariables},
  "#graphql\n  mutation AtelierProductReorderMedia($id: ID!, $moves: [MoveInput!]!) {\n    productReorderMedia(id: $id, moves: $moves) {\n      job {\n        id\n        done\n      }\n      mediaUserErrors {\n        field\n        message\n        code\n      }\n    }\n  }\n": {return: AtelierProductReorderMediaMutation, variables: AtelierProductReorderMediaMutationVariables},
  "#graphql\n  mutation AtelierFileUpdate($files: [FileUpdateInput!]!) {\n    fileUpdate(files: $files) {\n      files {\n        id\n      }\n      userErrors {\n        field\n        message\n        code\n      }\n    }\n  }\n": {return: AtelierFileUpdateMutation, variables: AtelierFileUpdateMutationVariables},
  "#graphql\n  mutation AtelierFileDelete($fileIds: [ID!]!) {\n    fileDelete(fileIds: $fileIds) {\n      deletedFileIds\n      userErrors {\n        field\n        message\n        code\n      }\n    }\n  }\n": {return: AtelierFileDeleteMutation, variables: AtelierFileDeleteMutationVariables},
  "#graphql\n  mutation AtelierBulkOperationRunQuery($query: String!) {\n    bulkOperationRunQuery(query: $query, groupObjects: false) {\n      bulkOperation {\n        id\n        status\n      }\n      userErrors {\n        field\n        message\n        code\n      }\n    }\n  }\n": {return: AtelierBulkOperationRunQueryMutation, variables: AtelierBulkOperationRunQueryMutationVariables},
}
declare module '@shopify/admin-api-client' {
  type InputMaybe<T> = AdminTypes.InputMaybe<T>;
  interface AdminQueries extends GeneratedQueryTypes {}
  interface AdminMutations extends GeneratedMutationTypes {}
}
