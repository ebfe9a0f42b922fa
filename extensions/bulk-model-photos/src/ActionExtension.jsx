// "Create model photos for selected" in the product list's bulk actions.
import { render } from 'preact'
import { LookForm } from '../../shared/LookForm.jsx'

export default async () => {
  const productIds = shopify.data.selected.map((p) => p.id)
  render(<LookForm productIds={productIds} />, document.body)
}
