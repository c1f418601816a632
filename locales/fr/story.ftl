# L'histoire de la collecte, reprise de la page d'origine ; les faits sont inchangés.
story-text =
    <b>{ -campaign-name }</b>

    La situation à Calais ne cesse de se dégrader. Il est urgent de venir en aide aux réfugiés et de soutenir le formidable travail de { -beneficiary }.

    Nous sommes deux bénévoles qui se rendent à Calais pour la troisième fois.

    La première fois, en juillet 2017, nous avons lancé une collecte solidaire en faveur de { -beneficiary } et avons réussi à récolter près de 11 000 €.

    Lors de notre deuxième venue, en octobre 2017, nous avons approfondi notre connaissance de la région et du travail des associations. Nous avons rédigé un rapport sur la situation des réfugiés, que nous avons communiqué au Haut-Commissaire des Nations unies aux droits de l'homme.

    Sur la base de nos travaux, trois rapporteurs spéciaux du Haut-Commissaire des Nations unies aux droits de l'homme ont publié un communiqué de presse « exhortant le gouvernement français à prendre des mesures de long terme pour assurer l'accès à l'eau potable et à l'assainissement pour les migrants de Calais et de la côte nord de la France ».

    C'est également sur la base de notre rapport que M. Léo Heller, rapporteur spécial de l'ONU sur le droit à l'eau potable et à l'assainissement, a prévu une visite à Calais les 28 et 29 janvier 2018. Nous y serons, bien sûr !

    Une fois à Calais, nous vous tiendrons au courant de la visite du rapporteur spécial et, plus important encore, nous partagerons avec vous un compte rendu détaillé de la situation sur le terrain.

    Nous voulons profiter de l'occasion pour lancer une seconde collecte solidaire. Si l'été 2017 a été vraiment difficile, l'hiver 2018 est encore pire. Le froid, la boue, la pluie et le vent rendent le sommeil et le repos très difficiles pour les migrants. La confiscation et la destruction incessantes des couvertures, des sacs de couchage et des tentes ne font qu'aggraver la situation.

    Si notre engagement vous tient à cœur, si vous pensez que notre travail peut faire une différence, si vous avez quelques euros à donner, n'hésitez pas à faire un don pour cette campagne ! Même un petit montant peut faire une vraie différence et apporter une aide précieuse au travail de { -beneficiary }. Le prix d'une place de cinéma, c'est une couverture pour un réfugié pour la nuit.

    Nous sommes extrêmement reconnaissants envers toutes celles et ceux qui donneront, qui nous ont soutenus dans le passé, qui ont lu nos nouvelles et nous ont envoyé des mots de soutien et d'encouragement. Cela compte énormément pour nous.

    Peace,

    Justin Valentine et Sophie Pouget
story-video = 🎬 Regardez notre vidéo : { $url }
story-video-credits = Vidéo © Nastassia Kantorowicz Torres, Damien Priest, Sophie Pouget et Justin Valentine
story-button-donate = 💶 Faire un don
