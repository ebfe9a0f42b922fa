// Every Admin GraphQL document Atelier sends. `#graphql` marks them for
// codegen (`npm run codegen`), which validates them against the pinned API
// version's real schema and writes their result and variable types to
// app/types/admin.generated.d.ts, keyed by the exact document text. why plain
// literals and no shared fragments interpolated in: an interpolated template
// is a `string`, and the typed client needs the literal type as the key.
//
// Costs in the comments are Shopify's requested (worst-case) cost: objects 1,
// scalars 0, connections 2 + first × element; mutations 10.

/** A page of products with their first media (≈ 2 + first × 23 points). */
export const LIST_PRODUCTS = `#graphql
  query AtelierListProducts($first: Int!, $after: String, $query: String) {
    products(first: $first, after: $after, query: $query, sortKey: TITLE) {
      nodes {
        id
        title
        vendor
        productType
        status
        media(first: 10, sortKey: POSITION) {
          nodes {
            __typename
            id
            alt
            status
            mediaContentType
            ... on MediaImage {
              image {
                url
                width
                height
              }
            }
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`

/** One product and a page of its media (≈ 104 points). */
export const PRODUCT_WITH_MEDIA = `#graphql
  query AtelierProductWithMedia($id: ID!, $mediaAfter: String) {
    product(id: $id) {
      id
      title
      vendor
      productType
      status
      media(first: 50, after: $mediaAfter, sortKey: POSITION) {
        nodes {
          __typename
          id
          alt
          status
          mediaContentType
          ... on MediaImage {
            image {
              url
              width
              height
            }
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`

/** One media node: its processing state and, once READY, its image (≈ 3 points). */
export const MEDIA_IMAGE_NODE = `#graphql
  query AtelierMediaImage($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on MediaImage {
        alt
        status
        mediaContentType
        image {
          url
          width
          height
        }
        mediaErrors {
          code
          message
          details
        }
      }
    }
  }
`

export const STAGED_UPLOADS_CREATE = `#graphql
  mutation AtelierStagedUploadsCreate($input: [StagedUploadInput!]!) {
    stagedUploadsCreate(input: $input) {
      stagedTargets {
        url
        resourceUrl
        parameters {
          name
          value
        }
      }
      userErrors {
        field
        message
      }
    }
  }
`

/**
 * Appends an image to a product. The payload's last media are returned so
 * the new one can be recognised (it is appended at the end).
 */
export const PRODUCT_ATTACH_MEDIA = `#graphql
  mutation AtelierProductAttachMedia($product: ProductUpdateInput!, $media: [CreateMediaInput!]!) {
    productUpdate(product: $product, media: $media) {
      product {
        id
        media(last: 5, sortKey: POSITION) {
          nodes {
            id
            alt
            status
            mediaContentType
          }
        }
      }
      userErrors {
        field
        message
      }
    }
  }
`

export const PRODUCT_REORDER_MEDIA = `#graphql
  mutation AtelierProductReorderMedia($id: ID!, $moves: [MoveInput!]!) {
    productReorderMedia(id: $id, moves: $moves) {
      job {
        id
        done
      }
      mediaUserErrors {
        field
        message
        code
      }
    }
  }
`

export const JOB_STATUS = `#graphql
  query AtelierJobStatus($id: ID!) {
    job(id: $id) {
      id
      done
    }
  }
`

/** Detaches files from products (the undo of an attach); the file itself stays. */
export const FILE_UPDATE = `#graphql
  mutation AtelierFileUpdate($files: [FileUpdateInput!]!) {
    fileUpdate(files: $files) {
      files {
        id
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`

export const FILE_DELETE = `#graphql
  mutation AtelierFileDelete($fileIds: [ID!]!) {
    fileDelete(fileIds: $fileIds) {
      deletedFileIds
      userErrors {
        field
        message
        code
      }
    }
  }
`

export const LIST_COLLECTIONS = `#graphql
  query AtelierListCollections($first: Int!) {
    collections(first: $first, sortKey: TITLE) {
      nodes {
        id
        title
      }
    }
  }`


/**
 * Starts a bulk query over the catalog (bulk runs). The inner query is a
 * string: bulk queries take no variables (app/modules/shopify/platform/bulk-catalog.server.ts
 * builds it). why groupObjects false: grouping is slower and more likely to
 * time out; our reader joins children to parents by __parentId.
 */
export const BULK_OPERATION_RUN_QUERY = `#graphql
  mutation AtelierBulkOperationRunQuery($query: String!) {
    bulkOperationRunQuery(query: $query, groupObjects: false) {
      bulkOperation {
        id
        status
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`

/** Where a bulk query is (polled until the bulk_operations/finish webhook or a poll sees it end); ≈ 1 point. */
export const BULK_OPERATION_STATUS = `#graphql
  query AtelierBulkOperation($id: ID!) {
    bulkOperation(id: $id) {
      id
      status
      errorCode
      objectCount
      rootObjectCount
      url
    }
  }
`
