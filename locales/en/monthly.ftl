# Managing a monthly gift from the chat: amount, pause, card (handlers/monthly*.py).
monthly-gift-title = 🔁 <b>{ $amount } / month</b>
monthly-gift-title-with-fee = 🔁 <b>{ $amount } / month</b> + { $fee } card fees you cover
monthly-gift-next = Next payment: { $date }
monthly-gift-paused = ⏸ <b>{ $amount } / month</b>, paused until { $date }
monthly-gift-paused-indefinitely = ⏸ <b>{ $amount } / month</b>, paused
monthly-gift-since = Giving since { $when }: { $sum } given so far
monthly-gift-given = { $sum } given so far
monthly-button-for = { $amount }: { $label }
monthly-button-change = ✏️ Change amount
monthly-button-pause = ⏸ Pause
monthly-button-resume = ▶️ Resume
monthly-button-card = 💳 Update card
monthly-gift-ended = This monthly gift has already ended, so nothing was changed. You can start a new one with /donate.
monthly-change-prompt = Your monthly gift is { $amount }. Choose the new amount; it applies from the next payment, and nothing is charged now.
monthly-change-other = ✏️ Other amount
monthly-change-other-prompt = Type the new monthly amount in euros (between { $min } and { $max }), for example 15 or 15.50.
monthly-change-confirm = From { $date ->
        [next] the next payment
       *[other] { $date }
    }, your monthly gift will be <b>{ $amount }</b> instead of { $sum }. Nothing is charged now. Change it?
monthly-change-confirm-with-fee = From { $date ->
        [next] the next payment
       *[other] { $date }
    }, your monthly gift will be <b>{ $amount }</b> + { $fee } card fees instead of { $sum } + { $fees }. Nothing is charged now. Change it?
monthly-change-confirm-yes = Yes, change it
monthly-change-same = Your monthly gift is already { $amount }: nothing to change.
monthly-changed = ✅ From { $date ->
        [next] the next payment
       *[other] { $date }
    }, your monthly gift is <b>{ $amount }</b>. Thank you!
monthly-changed-with-fee = ✅ From { $date ->
        [next] the next payment
       *[other] { $date }
    }, your monthly gift is <b>{ $amount }</b>, and you still cover the card fees: { $fee } more each month. Thank you!
monthly-pause-prompt = Pause your monthly gift of { $amount } for how long? The payments in between are skipped, and it resumes by itself.
monthly-pause-months = { $count ->
        [one] 1 month
       *[other] { $count } months
    }
monthly-already-paused = Your monthly gift is already paused.
monthly-paused = ⏸ Your monthly gift of { $amount } is paused: nothing will be taken until { $date }, when it resumes by itself. I will remind you the day before.
monthly-not-paused = Your monthly gift is not paused: nothing to resume.
monthly-resumed = ▶️ Your monthly gift of <b>{ $amount }</b> is running again; the next payment is { $date ->
        [next] on its usual day
       *[other] on { $date }
    }. Thank you!
monthly-resumes-tomorrow = 🔁 Your monthly gift of <b>{ $amount }</b> resumes tomorrow. Thank you for coming back to the people in Calais! You can change it or pause it again with /mygift.
monthly-card-link = Tap the button to update your card on Stripe's secure page. Your monthly gift stays as it is.
monthly-card-button = 💳 Update my card
monthly-card-no-customer = I can't find the card details of this gift at Stripe, so there is nothing to update. If a payment failed, you can start a new monthly gift with /donate.
monthly-card-updated = ✅ Your card for your monthly gift is updated: the next payments will use it. Thank you!
# The page the card page sends the donor back to.
page-card-title = Your card details
page-card-body = Stripe has your changes, if you made any. Your monthly gift carries on with the card you chose.
