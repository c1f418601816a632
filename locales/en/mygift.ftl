# /mygift: a donor's own gifts, and one tap to give again or to give every month.
command-mygift = Your gifts and receipts
mygift-button = 🎁 My gifts
mygift-once-header = <b>Your gifts</b>, newest first:
mygift-once-item =
    • { $date }: <b>{ $amount }</b>{ $status ->
        [refunded] , refunded
        [partly] , { $refunded } refunded
       *[none] {""}
    }
mygift-receipt = <a href="{ $url }">receipt</a>
mygift-once-more =
    { $count ->
        [one] …and one earlier gift.
       *[other] …and { $count } earlier gifts.
    }
mygift-receipts-unavailable = I couldn't fetch the receipts from Stripe just now; send /mygift again in a moment to see them.
mygift-give-again = 💛 Give { $amount } again
mygift-give-again-refused = This amount can no longer be given here. Please choose one with /donate.
mygift-suggest-monthly = 🔁 Make it monthly: { $amount } / month
mygift-already-monthly = You already give every month: thank you! Your monthly gift is in /mygift.
