// Market flags as small SVG images. why not the emoji: Windows shows regional
// indicator emoji as letter pairs ("DE"), and fonts without them show boxes
// (issue 16). Flags from flag-icons (MIT; the flags themselves are public
// domain); Spain's civil flag is drawn here, its state flag's coat of arms
// being 80 KB that no one can make out at this size.
import ae from 'flag-icons/flags/4x3/ae.svg?url'
import au from 'flag-icons/flags/4x3/au.svg?url'
import br from 'flag-icons/flags/4x3/br.svg?url'
import cn from 'flag-icons/flags/4x3/cn.svg?url'
import de from 'flag-icons/flags/4x3/de.svg?url'
import fr from 'flag-icons/flags/4x3/fr.svg?url'
import gb from 'flag-icons/flags/4x3/gb.svg?url'
import it from 'flag-icons/flags/4x3/it.svg?url'
import jp from 'flag-icons/flags/4x3/jp.svg?url'
import kr from 'flag-icons/flags/4x3/kr.svg?url'
import us from 'flag-icons/flags/4x3/us.svg?url'

const spain =
  'data:image/svg+xml,' +
  encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 480"><path fill="#AA151B" d="M0 0h640v480H0z"/><path fill="#F1BF00" d="M0 120h640v240H0z"/></svg>')

const FLAGS: Record<string, string> = { AE: ae, AU: au, BR: br, CN: cn, DE: de, ES: spain, FR: fr, GB: gb, IT: it, JP: jp, KR: kr, US: us }

/** The country's flag, decorative (the market's name is beside it); nothing for a country without one. */
export function Flag({ country, height = 18 }: { country: string; height?: number }) {
  const src = FLAGS[country.toUpperCase()]
  if (!src) return null
  return (
    <img
      src={src}
      alt=""
      width={Math.round((height * 4) / 3)}
      height={height}
      data-flag={country.toLowerCase()}
      style={{ display: 'inline-block', verticalAlign: 'middle', borderRadius: 2, boxShadow: '0 0 0 1px rgba(0,0,0,0.12)' }}
    />
  )
}
