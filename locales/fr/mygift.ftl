# /mygift : les dons d'une personne, et un geste pour redonner ou donner chaque mois.
command-mygift = Vos dons et leurs reçus
mygift-button = 🎁 Mes dons
mygift-once-header = <b>Vos dons</b>, du plus récent au plus ancien :
mygift-once-item =
    • { $date } : <b>{ $amount }</b>{ $status ->
        [refunded] , remboursé
        [partly] , dont { $refunded } remboursés
       *[none] {""}
    }
mygift-receipt = <a href="{ $url }">reçu</a>
mygift-once-more =
    { $count ->
        [one] …et un don plus ancien.
       *[other] …et { $count } dons plus anciens.
    }
mygift-receipts-unavailable = Je n'ai pas pu obtenir les reçus auprès de Stripe pour l'instant ; renvoyez /mygift dans un moment pour les voir.
mygift-give-again = 💛 Redonner { $amount }
mygift-give-again-refused = Ce montant ne peut plus être donné ici. Choisissez-en un avec /donate.
mygift-suggest-monthly = 🔁 En faire un don mensuel : { $amount } / mois
mygift-already-monthly = Vous donnez déjà chaque mois : merci ! Votre don mensuel se trouve dans /mygift.
