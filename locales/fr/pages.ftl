# Pages web vers lesquelles Stripe renvoie les donateurs.
page-success-title = Merci pour votre don
page-success-body = Votre paiement est bien passé. Vous allez recevoir un remerciement dans Telegram dans un instant ; l'argent va à { -beneficiary } et aux personnes qui dorment dehors à Calais.
page-cancel-title = Aucun paiement n'a été effectué
page-cancel-body = Vous avez quitté la page de paiement et rien n'a été prélevé. Vous pouvez donner à tout moment depuis le bot.
page-back-to-bot = Retour au bot

# Le widget public de progression (GET /widget), lié ou intégré dans d'autres sites.
widget-title = { -campaign-name }
widget-raised = { $raised } collectés sur { $goal }
widget-percent = { $percent }{"\u202F"}% de l'objectif
widget-donors = { $donors ->
        [0] aucun donateur pour l'instant
        [one] 1 donateur
       *[other] { $donors } donateurs
    }
widget-progress-label = Progression vers l'objectif
widget-give = Donner sur Telegram
widget-unavailable = La progression ne peut pas être affichée pour le moment. Réessayez dans une minute.
