# Gérer un don mensuel depuis la conversation : montant, pause, carte (handlers/monthly*.py).
monthly-gift-title = 🔁 <b>{ $amount } / mois</b>
monthly-gift-title-with-fee = 🔁 <b>{ $amount } / mois</b> + { $fee } de frais de carte que vous couvrez
monthly-gift-next = Prochain paiement : { $date }
monthly-gift-paused = ⏸ <b>{ $amount } / mois</b>, en pause jusqu'au { $date }
monthly-gift-paused-indefinitely = ⏸ <b>{ $amount } / mois</b>, en pause
monthly-gift-since = Vous donnez depuis le { $when } : { $sum } donnés jusqu'ici
monthly-gift-given = { $sum } donnés jusqu'ici
monthly-button-for = { $amount } : { $label }
monthly-button-change = ✏️ Changer le montant
monthly-button-pause = ⏸ Mettre en pause
monthly-button-resume = ▶️ Reprendre
monthly-button-card = 💳 Changer de carte
monthly-gift-ended = Ce don mensuel est déjà terminé, rien n'a donc été modifié. Vous pouvez en commencer un nouveau avec /donate.
monthly-change-prompt = Votre don mensuel est de { $amount }. Choisissez le nouveau montant : il s'applique dès le prochain paiement, et rien n'est prélevé maintenant.
monthly-change-other = ✏️ Autre montant
monthly-change-other-prompt = Écrivez le nouveau montant mensuel en euros (entre { $min } et { $max }), par exemple 15 ou 15,50.
monthly-change-confirm = À partir du { $date ->
        [next] prochain paiement
       *[other] { $date }
    }, votre don mensuel sera de <b>{ $amount }</b> au lieu de { $sum }. Rien n'est prélevé maintenant. Le changer ?
monthly-change-confirm-with-fee = À partir du { $date ->
        [next] prochain paiement
       *[other] { $date }
    }, votre don mensuel sera de <b>{ $amount }</b> + { $fee } de frais de carte au lieu de { $sum } + { $fees }. Rien n'est prélevé maintenant. Le changer ?
monthly-change-confirm-yes = Oui, le changer
monthly-change-same = Votre don mensuel est déjà de { $amount } : rien à changer.
monthly-changed = ✅ À partir du { $date ->
        [next] prochain paiement
       *[other] { $date }
    }, votre don mensuel est de <b>{ $amount }</b>. Merci !
monthly-changed-with-fee = ✅ À partir du { $date ->
        [next] prochain paiement
       *[other] { $date }
    }, votre don mensuel est de <b>{ $amount }</b>, et vous couvrez toujours les frais de carte : { $fee } de plus chaque mois. Merci !
monthly-pause-prompt = Mettre en pause votre don mensuel de { $amount } pour combien de temps ? Les paiements entre-temps sont sautés, et il reprend tout seul.
monthly-pause-months = { $count ->
        [one] 1 mois
       *[other] { $count } mois
    }
monthly-already-paused = Votre don mensuel est déjà en pause.
monthly-paused = ⏸ Votre don mensuel de { $amount } est en pause : rien ne sera prélevé jusqu'au { $date }, date à laquelle il reprendra tout seul. Je vous préviendrai la veille.
monthly-not-paused = Votre don mensuel n'est pas en pause : rien à reprendre.
monthly-resumed = ▶️ Votre don mensuel de <b>{ $amount }</b> reprend ; le prochain paiement aura lieu { $date ->
        [next] à sa date habituelle
       *[other] le { $date }
    }. Merci !
monthly-resumes-tomorrow = 🔁 Votre don mensuel de <b>{ $amount }</b> reprend demain. Merci de revenir aux côtés des personnes à Calais ! Vous pouvez le modifier ou le remettre en pause avec /mygift.
monthly-card-link = Touchez le bouton pour changer de carte sur la page sécurisée de Stripe. Votre don mensuel reste tel quel.
monthly-card-button = 💳 Changer ma carte
monthly-card-no-customer = Je ne trouve pas chez Stripe les coordonnées bancaires de ce don : il n'y a rien à mettre à jour. Si un paiement a échoué, vous pouvez commencer un nouveau don mensuel avec /donate.
monthly-card-updated = ✅ La carte de votre don mensuel est bien changée : les prochains paiements se feront avec elle. Merci !
# La page où Stripe renvoie le donateur après la page de sa carte.
page-card-title = Vos coordonnées bancaires
page-card-body = Stripe a bien vos modifications, si vous en avez fait. Votre don mensuel continue avec la carte choisie.
