donate-prompt =
    <b>Donner à { -beneficiary }</b>

    Choisissez un montant. Le paiement est assuré en toute sécurité par Stripe ; le bot ne voit jamais votre carte.
    { $frequency ->
        [monthly] Vous donnez <b>chaque mois</b> ; vous pouvez arrêter à tout moment depuis cette conversation.
       *[once] Vous donnez <b>une fois</b>.
    }
donate-button-once = Ponctuel
donate-button-monthly = Mensuel
donate-button-selected = ✅ { $label }
donate-button-amount = { $amount }
donate-button-amount-monthly = { $amount } / mois
donate-button-other = ✏️ Autre montant
donate-product-name = Don à l'Auberge des Migrants (Calais)
donate-product-name-monthly = Don mensuel à l'Auberge des Migrants (Calais)
donate-other-prompt = Écrivez le montant que vous souhaitez donner, en euros (entre { $min } et { $max }), par exemple 15 ou 15,50.
donate-amount-invalid = Merci d'écrire un montant en euros avec des chiffres uniquement, comme 15 ou 15,50 (deux décimales au plus), entre { $min } et { $max }.
donate-amount-too-small = Le plus petit don possible est de { $min }. Écrivez un montant plus élevé, ou Annuler.
donate-amount-too-large = Le plus grand don possible ici est de { $max }. Écrivez un montant plus petit, ou Annuler.
donate-link =
    { $frequency ->
        [monthly] Merci ! Touchez le bouton pour mettre en place votre don mensuel de <b>{ $amount }</b> sur la page sécurisée de Stripe.
       *[once] Merci ! Touchez le bouton pour donner <b>{ $amount }</b> sur la page sécurisée de Stripe.
    }
    Le lien reste valable 24 heures.
donate-button-pay = 🔒 Donner { $amount } avec Stripe
donate-button-pay-monthly = 🔒 Donner { $amount } / mois avec Stripe
donate-unavailable = Je n'arrive pas à joindre notre prestataire de paiement pour le moment. Merci de réessayer dans un instant.
donate-busy = Beaucoup de personnes donnent en ce moment. Merci de réessayer dans une minute.
donate-thanks-once = 💛 Merci ! Votre don de <b>{ $amount }</b> est bien arrivé. Il va à { -beneficiary } et aux personnes qui dorment dehors à Calais.
donate-thanks-monthly-first = 💛 Merci ! Votre don mensuel de <b>{ $amount }</b> a commencé ; le premier paiement est arrivé. Vous pouvez le modifier, le mettre en pause ou l'arrêter à tout moment avec /mygift.
donate-thanks-monthly-renewal = 💛 Votre don mensuel de <b>{ $amount }</b> est de nouveau arrivé ce mois-ci. Merci d'être aux côtés des personnes à Calais.
donate-thanks-follow = 🔔 Suivre les nouvelles de Calais
donate-thanks-words = 💬 Laisser un mot de soutien
donate-thanks-name = 🙋 Afficher mon prénom
donate-thanks-anonymous = Votre don reste anonyme, sauf si vous choisissez d'afficher votre prénom.
donate-payment-failed = Votre paiement de { $amount } n'a pas abouti et rien n'a été prélevé. Vous pouvez réessayer avec /donate.
donate-monthly-ended = Votre don mensuel a pris fin. Merci pour tout ce que vous avez donné. Vous pouvez recommencer à tout moment avec /donate.
donate-monthly-none = Vous n'avez aucun don mensuel en cours.
donate-monthly-list = Vos dons mensuels :
donate-monthly-cancel-button = Arrêter { $amount } / mois
donate-monthly-confirm = Arrêter votre don mensuel de { $amount } ? Plus rien ne sera prélevé.
donate-monthly-confirm-yes = Oui, l'arrêter
donate-monthly-confirm-no = Non, le garder
donate-monthly-cancelled = Votre don mensuel de { $amount } est arrêté. Merci pour votre soutien !
donate-monthly-kept = Parfait : votre don mensuel continue. Merci !
donate-words-prompt = Écrivez un court mot de soutien ({ $max } caractères au plus). Il sera affiché avec /progress, avec votre prénom seulement si vous avez choisi de l'afficher.
donate-words-too-long = Cela fait { $length } caractères ; merci de vous limiter à { $max }.
donate-words-empty = Merci d'écrire quelques mots, ou Annuler.
donate-words-invisible = Ces caractères ne s'affichent pas à l'écran : personne ne verrait vos mots. Écrivez des lettres, des chiffres ou des emoji, ou Annuler.
donate-words-saved = Merci pour vos mots ! Ils apparaissent maintenant avec /progress.
donate-name-saved = Merci ! Votre prénom apparaît maintenant avec vos mots de soutien.
donate-name-invisible = Votre prénom est fait de caractères qui ne s'affichent pas à l'écran : vos mots restent donc anonymes.
donate-not-yours = Ce bouton concerne le don de quelqu'un d'autre.
