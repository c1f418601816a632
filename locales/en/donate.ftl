donate-prompt =
    <b>Give to { -beneficiary }</b>

    Choose an amount. Payment is handled securely by Stripe; the bot never sees your card.
    { $frequency ->
        [monthly] You are giving <b>every month</b>; you can stop at any time from this chat.
       *[once] You are giving <b>once</b>.
    }
donate-button-once = One-off
donate-button-monthly = Monthly
donate-button-selected = ✅ { $label }
donate-button-amount = { $amount }
donate-button-amount-monthly = { $amount } / month
donate-button-other = ✏️ Other amount
donate-product-name = Donation to l'Auberge des Migrants (Calais)
donate-product-name-monthly = Monthly donation to l'Auberge des Migrants (Calais)
donate-other-prompt = Type the amount you want to give, in euros (between { $min } and { $max }), for example 15 or 15.50.
donate-amount-invalid = Please type an amount in euros with digits only, such as 15 or 15.50 (at most two decimals), between { $min } and { $max }.
donate-amount-too-small = The smallest gift I can take is { $min }. Please type a larger amount, or Cancel.
donate-amount-too-large = The largest gift I can take here is { $max }. Please type a smaller amount, or Cancel.
donate-link =
    { $frequency ->
        [monthly] Thank you! Tap the button to set up your monthly gift of <b>{ $amount }</b> on Stripe's secure page.
       *[once] Thank you! Tap the button to give <b>{ $amount }</b> on Stripe's secure page.
    }
    The link stays valid for 24 hours.
donate-button-pay = 🔒 Give { $amount } with Stripe
donate-button-pay-monthly = 🔒 Give { $amount } / month with Stripe
donate-unavailable = I can't reach our payment provider right now. Please try again in a moment.
donate-busy = Many people are giving right now. Please try again in a minute.
donate-thanks-once = 💛 Thank you! Your gift of <b>{ $amount }</b> has arrived. It goes to { -beneficiary } and the people sleeping rough in Calais.
donate-thanks-monthly-first = 💛 Thank you! Your monthly gift of <b>{ $amount }</b> has started; the first payment has arrived. You can change, pause or stop it at any time with /mygift.
donate-thanks-monthly-renewal = 💛 Your monthly gift of <b>{ $amount }</b> arrived again this month. Thank you for standing by the people in Calais.
donate-thanks-follow = 🔔 Follow news from Calais
donate-thanks-words = 💬 Leave a word of support
donate-thanks-name = 🙋 Show my first name
donate-thanks-anonymous = Your gift stays anonymous unless you choose to show your first name.
donate-payment-failed = Your payment of { $amount } did not go through, and nothing was taken. You can try again with /donate.
donate-monthly-ended = Your monthly gift has ended. Thank you for everything you gave. You can start again at any time with /donate.
donate-monthly-none = You have no monthly gift running.
donate-monthly-list = Your monthly gifts:
donate-monthly-cancel-button = Stop { $amount } / month
donate-monthly-confirm = Stop your monthly gift of { $amount }? Nothing more will be taken.
donate-monthly-confirm-yes = Yes, stop it
donate-monthly-confirm-no = No, keep it
donate-monthly-cancelled = Your monthly gift of { $amount } is stopped. Thank you for your support!
donate-monthly-kept = Good: your monthly gift keeps going. Thank you!
donate-words-prompt = Type a short word of support (up to { $max } characters). It will be shown with /progress, with your first name only if you chose to show it.
donate-words-too-long = That is { $length } characters; please keep it to { $max }.
donate-words-empty = Please type a few words, or Cancel.
donate-words-invisible = Those characters do not show on screen, so nobody would see your words. Please type letters, numbers or emoji, or Cancel.
donate-words-saved = Thank you for your words! They now appear with /progress.
donate-name-saved = Thank you! Your first name now appears with your words of support.
donate-name-invisible = Your first name is made of characters that do not show on screen, so your words stay anonymous.
donate-not-yours = This button belongs to someone else's gift.
