// The REST product body products/update and products/delete carry (the fields we read).

export interface ProductPayload {
  id?: number | string
  admin_graphql_api_id?: string
  title?: string
  media?: { admin_graphql_api_id?: string; media_content_type?: string }[]
  images?: { admin_graphql_api_id?: string }[]
}

export function productGid(p: ProductPayload): string | null {
  if (p.admin_graphql_api_id) return p.admin_graphql_api_id
  return p.id !== undefined ? `gid://shopify/Product/${p.id}` : null
}

/** The product's image media ids (its `images` on bodies without `media`). */
export function mediaIds(p: ProductPayload): string[] {
  const media = (p.media ?? []).filter((m) => !m.media_content_type || m.media_content_type === 'IMAGE')
  const ids = media.map((m) => m.admin_graphql_api_id).filter((x): x is string => Boolean(x))
  if (ids.length > 0 || p.media) return ids
  return (p.images ?? []).map((i) => i.admin_graphql_api_id).filter((x): x is string => Boolean(x))
}
