# La fin de la campagne : le /close des organisateurs, le bilan final, et ce que tout le monde voit ensuite.
closing-ask-early-dated = 🔒 La campagne court jusqu'au { $date } ; la clôturer maintenant ? Une fois le bilan confirmé, /donate ne crée plus de lien de paiement.
closing-ask-early = 🔒 Le fichier de campagne ne donne pas de date de fin ; clôturer la campagne maintenant ? Une fois le bilan confirmé, /donate ne crée plus de lien de paiement.
closing-button-close-now = 🔒 La clôturer maintenant
closing-button-keep-open = La laisser ouverte
closing-kept-open = Rien n'a changé : la campagne reste ouverte.
closing-ask-en =
    🔒 <b>Bilan de clôture.</b> Il commence par ces lignes, écrites par le bot (les lecteurs anglophones les reçoivent en anglais) :

    { $facts }

    Envoyez maintenant la suite en <b>anglais</b> : ce que l'argent a permis, un merci. La mise en forme HTML de Telegram fonctionne. Envoyez /cancel pour arrêter.
closing-already-closed = La campagne est déjà clôturée : son bilan est la diffusion n° { $id }. Rien n'a été envoyé deux fois.
closing-preview-summary = Prêt à envoyer le bilan une seule fois à chaque abonné ({ $subscribers }) et à chaque donateur sur Telegram, chacun dans sa langue. Dès votre confirmation, /donate ne crée plus de lien de paiement et les bénéficiaires reçoivent le récapitulatif final.
closing-button-confirm = 🔒 Clôturer et envoyer
closing-facts-title = <b>Notre campagne pour { -beneficiary } est terminée. Merci !</b>
closing-facts-totals = Ensemble, nous avons collecté { $raised } (objectif : { $goal }), grâce à { $donors ->
        [one] 1 donateur
       *[other] { $donors } donateurs
    } et { $donations ->
        [one] 1 don
       *[other] { $donations } dons
    }.
closing-facts-needs = Besoins entièrement couverts : { $needs }.
closing-over = 🙏 La campagne est terminée et ne reçoit plus de dons. Merci à toutes celles et ceux qui ont donné.
closing-over-button = Où aider maintenant
closing-widget-over = La campagne est terminée. Merci à toutes celles et ceux qui ont donné.
closing-widget-link = Où aider maintenant
closing-beneficiary-summary =
    🔒 <b>La campagne est clôturée : récapitulatif final</b>
    Dons reçus : { $gross }
    Remboursés : { $refunded }
    Contestés : { $disputed }
    Collecté (net) : { $raised }
    Frais de carte couverts par les donateurs (hors total) : { $fees }
    Dépensé : { $spent }
    À virer, avant les frais de carte de Stripe sur les dons dont le donateur ne les a pas couverts : { $transfer }
