# The daily or weekly digest (bot/broadcasts/digest_content.py): every update since the last one.
digest-header-daily = <b>Your daily news from Calais — { $count ->
    [one] 1 update
   *[other] { $count } updates
}</b>
digest-header-weekly = <b>Your weekly news from Calais — { $count ->
    [one] 1 update
   *[other] { $count } updates
}</b>
digest-update-date = <i>{ $date }</i>
digest-photos = 📷 { $count ->
    [one] The photo is
   *[other] The photos are
} in /updates
