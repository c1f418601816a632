# /share : le lien personnel d'un soutien vers la collecte, et ce qu'il a rapporté.
command-share = Votre lien pour partager la collecte
share-text =
    🔗 <b>Votre lien personnel vers la collecte</b>
    { $url }

    Envoyez-le à vos proches : quand quelqu'un lance le bot par ce lien et donne, son don compte pour votre lien. Le lien ne dit rien de vous.
share-tally = { $count ->
        [one] 1 personne a donné
       *[other] { $count } personnes ont donné
    } { $amount } grâce à votre lien. Merci de l'avoir partagé !
share-tally-none = Personne n'a encore donné par ce lien : dès que quelqu'un le fera, vous le verrez ici.
share-button = 📤 Partager le lien
share-invitation = Cet hiver, des réfugiés dorment dehors à Calais. Je soutiens { -beneficiary } : vous pouvez aider vous aussi, grâce à ce bot.
share-first-gift = 💛 Quelqu'un vient de donner grâce à votre lien — merci de l'avoir partagé ! Envoyez /share pour voir où il en est.
share-stats-line = Liens personnels des soutiens (/share) : { $count ->
        [one] 1 don
       *[other] { $count } dons
    }, { $amount }
share-link-reserved = Les codes qui commencent par « { $code } » sont réservés aux liens personnels des soutiens (/share). Merci d'en choisir un autre.
