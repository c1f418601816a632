help-text =
    <b>{ -campaign-name }</b> — what I can do:

    /start — welcome and progress of the campaign
    /story — our full story and video
    /donate — give once or every month, securely with Stripe
    /mygift — your gifts, their receipts, and your monthly gift
    /progress — how much has been raised so far
    /needs — what your gifts buy: blankets, tents and more
    /spending — what the money paid for, with receipts
    /subscribe — receive news from Calais
    /unsubscribe — stop receiving news
    /settings — how often and when you get news
    /updates — read past news
    /share — your own link to share the campaign
    /language — change language
    /forget — erase your data
    /help — this message

# The command menu Telegram shows, and the bot's profile texts.
command-start = Welcome and campaign progress
command-story = Our full story and video
command-donate = Give once or every month
command-progress = How much has been raised
command-subscribe = Receive news from Calais
command-unsubscribe = Stop receiving news
command-updates = Read past news
command-language = Change language
command-forget = Erase your data
command-help = What this bot can do
bot-description = Two volunteers raise money for { -beneficiary }, which helps refugees sleeping rough in Calais. Read our story, give securely with Stripe, and follow news from the field.
bot-short-description = Help refugees in Calais this winter: our story, secure donations and news from the field.
