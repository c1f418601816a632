# /share: a supporter's own link to the campaign, and what it has brought.
command-share = Your own link to share the campaign
share-text =
    🔗 <b>Your own link to the campaign</b>
    { $url }

    Send it to friends and family: when someone starts the bot through it and gives, the gift counts for your link. The link says nothing about you.
share-tally = { $count ->
        [one] 1 person gave
       *[other] { $count } people gave
    } { $amount } through your link. Thank you for sharing!
share-tally-none = Nobody has given through it yet: when someone does, you will see it here.
share-button = 📤 Share the link
share-invitation = Refugees are sleeping rough in Calais this winter. I support { -beneficiary }: you can help too, through this bot.
share-first-gift = 💛 Someone just gave through your link — thank you for sharing! Send /share to see how it is doing.
share-stats-line = Supporters' own links (/share): { $count ->
        [one] 1 gift
       *[other] { $count } gifts
    }, { $amount }
share-link-reserved = Codes starting with “{ $code }” are kept for supporters' own links (/share). Please choose another code.
