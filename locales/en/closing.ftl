# The campaign's end: the organizers' /close, the closing report, and what everyone sees after.
closing-ask-early-dated = 🔒 The campaign runs until { $date }; close it now? Once the closing report is confirmed, /donate makes no more payment links.
closing-ask-early = 🔒 The campaign file gives no end date; close the campaign now? Once the closing report is confirmed, /donate makes no more payment links.
closing-button-close-now = 🔒 Close it now
closing-button-keep-open = Keep it open
closing-kept-open = Nothing changed: the campaign stays open.
closing-ask-en =
    🔒 <b>Closing report.</b> It starts with these lines, filled in by the bot (French readers get them in French):

    { $facts }

    Now send the rest in <b>English</b>: what the money did, a thank-you. Telegram's HTML formatting works. Send /cancel to stop.
closing-already-closed = The campaign is already closed: its closing report is broadcast #{ $id }. Nothing was sent twice.
closing-preview-summary = Ready to send the closing report once to every subscriber ({ $subscribers }) and to every donor on Telegram, each in their language. Once you confirm, /donate makes no more payment links and the beneficiaries get the final summary.
closing-button-confirm = 🔒 Close and send
closing-facts-title = <b>Our campaign for { -beneficiary } is over. Thank you!</b>
closing-facts-totals = Together we raised { $raised } (goal: { $goal }), from { $donors ->
        [one] 1 donor
       *[other] { $donors } donors
    } in { $donations ->
        [one] 1 gift
       *[other] { $donations } gifts
    }.
closing-facts-needs = Needs met in full: { $needs }.
closing-over = 🙏 The campaign is over and no longer takes gifts. Thank you to everyone who gave.
closing-over-button = Where to help now
closing-widget-over = The campaign is over. Thank you to everyone who gave.
closing-widget-link = Where to help now
closing-beneficiary-summary =
    🔒 <b>The campaign is closed: final summary</b>
    Given: { $gross }
    Refunded: { $refunded }
    Disputed: { $disputed }
    Raised (net): { $raised }
    Card fees covered by donors (not in the total): { $fees }
    Spent: { $spent }
    To transfer, before Stripe's card fees on the gifts whose donor did not cover them: { $transfer }
