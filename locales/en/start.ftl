start-welcome =
    <b>{ -campaign-name }</b>

    We are two volunteers raising money for { -beneficiary }, which helps refugees sleeping rough in Calais. This winter the cold, the mud, the rain and the wind make sleep almost impossible, and blankets, sleeping bags and tents keep being confiscated and destroyed.

    The price of a cinema ticket is a blanket for someone for the night.

    { $progress }
start-button-donate = 💶 Donate
start-button-story = 📖 Full story
start-button-follow = 🔔 Follow updates
start-button-language = 🌐 Language
