help-text =
    <b>{ -campaign-name }</b> — ce que je sais faire :

    /start — accueil et avancée de la collecte
    /story — toute notre histoire et notre vidéo
    /donate — donner une fois ou chaque mois, en sécurité avec Stripe
    /mygift — vos dons, leurs reçus et votre don mensuel
    /progress — le montant collecté jusqu'ici
    /needs — ce que vos dons achètent : couvertures, tentes et plus
    /spending — ce que l'argent a payé, avec les justificatifs
    /subscribe — recevoir les nouvelles de Calais
    /unsubscribe — ne plus recevoir les nouvelles
    /settings — le rythme et les heures de vos nouvelles
    /updates — relire les nouvelles passées
    /share — votre lien personnel pour partager la collecte
    /language — changer de langue
    /forget — effacer vos données
    /help — ce message

# Le menu de commandes de Telegram et les textes du profil du bot.
command-start = Accueil et avancée de la collecte
command-story = Toute notre histoire et notre vidéo
command-donate = Donner une fois ou chaque mois
command-progress = Le montant collecté
command-subscribe = Recevoir les nouvelles de Calais
command-unsubscribe = Ne plus recevoir les nouvelles
command-updates = Relire les nouvelles passées
command-language = Changer de langue
command-forget = Effacer vos données
command-help = Ce que ce bot sait faire
bot-description = Deux bénévoles collectent des fonds pour { -beneficiary }, qui vient en aide aux réfugiés dormant dehors à Calais. Lisez notre histoire, donnez en toute sécurité avec Stripe et suivez les nouvelles du terrain.
bot-short-description = Aidez les réfugiés de Calais cet hiver : notre histoire, des dons sécurisés et les nouvelles du terrain.
