# /spending for everyone, /spent for organizers, and what the money paid for.
command-spending = What the money paid for
spending-page =
    🧾 <b>{ $date }</b> · <b>{ $amount }</b> ({ $index } of { $total })

    { $text }
spending-page-number = #{ $entry }
spending-empty = Nothing has been recorded as spent yet. Every purchase will show here, with its receipt, as soon as the organizers record it.
spending-button-older = ← Older
spending-button-newer = Newer →
spending-button-correct = ✏️ Correct
spending-button-remove = 🗑 Remove
# One line on /progress, the widget and /stats; "over" when more was spent than raised.
spending-summary =
    { $over ->
        [yes] Spent: { $spent } · { $left } more than raised so far
       *[no] Spent: { $spent } · still to spend: { $left }
    }
spending-stats = Spending: { $count ->
        [one] 1 entry
       *[other] { $count } entries
    }, { $spent } · { $over ->
        [yes] { $left } more than raised
       *[no] still to spend: { $left }
    }
# /mygift: "What did my gift pay for?"
spending-paid-for-button = 🧾 What did my gift pay for?
spending-paid-for =
    Money is pooled: we can't say which euro bought what. Since your first gift on { $date }, the campaign has spent <b>{ $spent }</b> on:
spending-paid-for-item = • { $date }: { $amount }, { $text }
spending-paid-for-more =
    { $count ->
        [one] …and one earlier purchase: see /spending.
       *[other] …and { $count } earlier purchases: see /spending.
    }
spending-paid-for-none = Money is pooled: we can't say which euro bought what. Since your first gift on { $date }, nothing has been recorded as spent yet; /spending will show each purchase as soon as the organizers record it.
# /spent: an organizer records what was bought or paid.
spent-ask-amount = How much was spent? Send the amount, for example 120 or 35.50.
spent-ask-amount-correct = Entry #{ $entry } is { $amount } now. Send the right amount, or keep it.
spent-amount-not-positive = The amount must be more than zero.
spent-amount-not-a-number = I couldn't read an amount. Send digits only, for example 120 or 35.50.
spent-amount-too-large = { $max } is the most one entry can be (ten times the goal): please check the amount.
spent-ask-en = What was it, in English? A short text, { $max } characters at most (for example “40 blankets for the Calais night patrol”).
spent-ask-fr = And in French?
spent-ask-text-correct = It reads now: “{ $text }”. Send the new text, or keep it.
spent-need-text = Please send the text as a message.
spent-text-invisible = That text has only invisible characters. Please send visible words.
spent-text-too-long = That text is { $length } characters long; { $max } at most, please.
spent-ask-photo = Send a photo of the receipt or of what was bought, or tap No photo.
spent-not-a-photo-text = That is not a photo: send a photo, or tap No photo above.
spent-not-a-photo = That is not a photo. Send it as a photo (not as a file), or tap No photo.
spent-button-keep = Keep it
spent-button-no-photo = No photo
spent-button-confirm = ✅ Record it
spent-button-confirm-correction = ✅ Correct it
spent-preview-header = Everyone will see this in /spending:
spent-preview-summary = { $amount } spent. Raised so far: { $raised } · already spent: { $spent }.
spent-preview-over = ⚠️ This is more than is left to spend ({ $left }). It can be recorded, and /progress will then say that { $over } more was spent than raised.
spent-recorded = Recorded as entry #{ $entry }: everyone sees it in /spending.
spent-corrected = Entry #{ $entry } corrected.
spent-already-recorded = This was recorded already, as entry #{ $entry }.
spent-discarded = Cancelled: nothing was recorded.
spent-already-discarded = This draft was cancelled already.
spent-no-entry = There is no entry #{ $entry }. /spending lists them with their numbers.
spent-usage = To record a spend, send /spent. To change entry 3, send /spent edit 3; to remove it, /spent remove 3.
spent-remove-confirm = Remove entry #{ $entry } ({ $amount }, { $date })? Everyone will stop seeing it, and the totals will drop.
spent-remove-yes = Yes, remove it
spent-remove-keep = Keep it
spent-removed = Entry #{ $entry } removed.
spent-already-removed = This entry was removed already.
