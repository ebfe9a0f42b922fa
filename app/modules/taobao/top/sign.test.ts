import { afterEach, describe, expect, it } from 'vitest'
import { signingString, signTopRequest } from './sign.ts'
import { topTimestamp } from './timestamp.ts'

// The published vector (shared/API-NOTES.md, Taobao Open Platform).
const published = {
  method: 'taobao.item.seller.get',
  app_key: '12345678',
  session: 'test',
  timestamp: '2016-01-01 12:00:00',
  format: 'json',
  v: '2.0',
  sign_method: 'md5',
  fields: 'num_iid,title,nick,price,num',
  num_iid: '11223344',
}

describe('signTopRequest', () => {
  it('matches the published md5 vector', () => {
    expect(signTopRequest(published, 'helloworld', 'md5')).toBe('66987CB115214E59E6EC978214934FB8')
  })

  // Derived outside Node, e.g. for hmac:
  //   printf '%s' "$(signing string)" | openssl dgst -md5 -hmac helloworld
  // where the signing string is the sorted name+value concatenation below.
  it('matches openssl for hmac (HMAC-MD5) and hmac-sha256', () => {
    const hmac = { ...published, sign_method: 'hmac' }
    expect(signingString(hmac)).toBe(
      'app_key12345678fieldsnum_iid,title,nick,price,numformatjsonmethodtaobao.item.seller.getnum_iid11223344' +
        'sessiontestsign_methodhmactimestamp2016-01-01 12:00:00v2.0',
    )
    expect(signTopRequest(hmac, 'helloworld', 'hmac')).toBe('D56D7858309C31B6251083A874D48273')
    const sha = { ...published, sign_method: 'hmac-sha256' }
    expect(signTopRequest(sha, 'helloworld', 'hmac-sha256')).toBe(
      '04DB15AD0774D5CFCE2C837DE43E3FCEA9011ED74F3038FB6AB5F3C4CEA119E8',
    )
  })

  // A Chinese value is hashed as UTF-8 bytes; openssl reads the shell's UTF-8 string:
  //   printf '%s' 'app_key12345678…image_input_title白色T恤 正面.jpg…v2.0' | openssl dgst -sha256 -hmac helloworld
  it('hashes a Chinese value as UTF-8', () => {
    const upload = {
      method: 'taobao.picture.upload',
      app_key: '12345678',
      session: 'test',
      timestamp: '2016-01-01 12:00:00',
      format: 'json',
      v: '2.0',
      sign_method: 'hmac-sha256',
      image_input_title: '白色T恤 正面.jpg',
      picture_category_id: '0',
    }
    expect(signTopRequest(upload, 'helloworld', 'hmac-sha256')).toBe(
      '8826903ACFFC56A30656BD327438BA90C1FA09A7FA68D5A7EFA4CAF4620299BF',
    )
    expect(signTopRequest({ ...upload, sign_method: 'md5' }, 'helloworld', 'md5')).toBe('D0804EC47A76DF1D9B37A86B0292250C')
  })

  it('leaves out sign and empty values', () => {
    const base = signTopRequest(published, 'helloworld', 'md5')
    expect(signTopRequest({ ...published, sign: 'X', partner_id: '', extra: undefined }, 'helloworld', 'md5')).toBe(base)
  })
})

describe('topTimestamp', () => {
  const saved = process.env.TZ
  afterEach(() => {
    process.env.TZ = saved
  })

  it('is Shanghai time whatever the host zone', () => {
    process.env.TZ = 'America/Los_Angeles'
    const instant = new Date('2026-03-08T10:30:05Z') // a DST switch day in Los Angeles
    expect(new Date(instant).getHours()).toBe(3)
    expect(topTimestamp(instant)).toBe('2026-03-08 18:30:05')
    expect(topTimestamp(new Date('2026-12-31T16:00:00Z'))).toBe('2027-01-01 00:00:00')
  })
})
