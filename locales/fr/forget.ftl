forget-confirm = Effacer vos données ? J'oublierai votre langue, votre abonnement aux nouvelles et tout ce que vous étiez en train de faire, je retirerai de la collecte le prénom et les mots de soutien que vous aviez choisi d'afficher, et je détacherai vos dons de votre compte Telegram.
forget-monthly-warning = Votre don mensuel continue chez Stripe : si vous voulez l'arrêter, faites-le d'abord avec /mygift.
forget-button-yes = Oui, effacer mes données
forget-button-no = Non, les garder
forget-done = C'est fait : je ne sais plus qui vous êtes. Vos dons restent dans les comptes de la collecte (montant, date et référence Stripe), car les dons doivent être conservés pour la comptabilité, mais plus rien ne les relie à votre compte Telegram. Si vous donnez à nouveau un jour, je vous remercierai comme un nouveau soutien. Envoyez /start si vous revenez.
forget-kept = Rien n'a été effacé.
rate-limited = Vous allez un peu vite pour moi. Merci d'attendre une minute avant de réessayer.
