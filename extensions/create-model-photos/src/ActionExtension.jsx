// "Create model photos" in the More actions menu of a product page.
import { render } from 'preact'
import { LookForm } from '../../shared/LookForm.jsx'

export default async () => {
  const productId = shopify.data.selected[0]?.id
  render(<LookForm productIds={productId ? [productId] : []} />, document.body)
}
