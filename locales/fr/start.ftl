start-welcome =
    <b>{ -campaign-name }</b>

    Nous sommes deux bénévoles qui collectent des fonds pour { -beneficiary }, qui vient en aide aux réfugiés dormant dehors à Calais. Cet hiver, le froid, la boue, la pluie et le vent rendent le sommeil presque impossible, et couvertures, sacs de couchage et tentes sont sans cesse confisqués et détruits.

    Le prix d'une place de cinéma, c'est une couverture pour quelqu'un pour la nuit.

    { $progress }
start-button-donate = 💶 Faire un don
start-button-story = 📖 Toute l'histoire
start-button-follow = 🔔 Suivre les nouvelles
start-button-language = 🌐 Langue
