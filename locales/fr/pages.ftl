# Pages web vers lesquelles Stripe renvoie les donateurs.
page-success-title = Merci pour votre don
page-success-body = Votre paiement est bien passé. Vous allez recevoir un remerciement dans Telegram dans un instant ; l'argent va à { -beneficiary } et aux personnes qui dorment dehors à Calais.
page-cancel-title = Aucun paiement n'a été effectué
page-cancel-body = Vous avez quitté la page de paiement et rien n'a été prélevé. Vous pouvez donner à tout moment depuis le bot.
page-back-to-bot = Retour au bot
