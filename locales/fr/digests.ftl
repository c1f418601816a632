# Le résumé du jour ou de la semaine (bot/broadcasts/digest_content.py) : tout depuis le dernier.
digest-header-daily = <b>Vos nouvelles de Calais du jour — { $count ->
    [one] 1 nouvelle
   *[other] { $count } nouvelles
}</b>
digest-header-weekly = <b>Vos nouvelles de Calais de la semaine — { $count ->
    [one] 1 nouvelle
   *[other] { $count } nouvelles
}</b>
digest-update-date = <i>{ $date }</i>
digest-photos = 📷 { $count ->
    [one] La photo est
   *[other] Les photos sont
} dans /updates
