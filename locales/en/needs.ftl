# The needs board (/needs), choosing a need on the amount step, and /allocate for organizers.
command-needs = What your gifts buy
needs-button-board = 🧺 What your gifts buy
needs-title = <b>What your gifts buy</b>
needs-line = { $need } { $bar } { $count } of { $target }{ $filled ->
    [yes] {" "}✅ filled
   *[no] {""}
}
needs-general-pool = Given “where it helps most”, still to be shared out: { $amount }
needs-none = The campaign lists no needs of its own: every gift goes where it helps most.
needs-general = where it helps most
needs-button-photo = 📷 { $need }
needs-button-for = For: { $need } ▾
needs-pick-title = What should your gift pay for? Each need shows how many are already paid for.
needs-choice = { $need } ({ $count } of { $target }){ $filled ->
    [yes] {" "}✅
   *[no] {""}
}
needs-filled-choice = { $need } is already filled: your gift will go where it helps most.
needs-unknown = That need is not on the list any more. Open /donate again to choose.
needs-filled-broadcast =
    🎉 <b>{ $need }: the target is reached!</b>

    Thanks to you, { $target } are paid for ({ $amount }). Thank you for every gift, large or small. From now on, gifts chosen for it, monthly ones included, go where they help most: see /needs.
needs-filled-organizer = 🎉 { $need }: target reached. The subscribers are being told.
beneficiary-need-filled = 🎉 Need filled: { $need }, { $target } paid for ({ $amount }).

allocate-usage = Send /allocate followed by a need and an amount, for example: /allocate blankets 150. Needs: { $ids }
allocate-unknown-need = There is no need called “{ $need }”. Needs: { $ids }
allocate-bad-amount = That amount is not one I can read: write it like 150 or 150.50.
allocate-amount-not-positive = The amount must be more than zero.
allocate-too-large = { $amount } is more than the { $pool } given “where it helps most” that is not shared out yet. Nothing was allocated.
allocate-preview =
    Give { $amount } of the gifts “where it helps most” to <b>{ $need }</b>: { $count ->
        [0] not one more yet
        [one] one more
       *[other] { $count } more
    }. Still to be shared out: { $pool }.
allocate-button-confirm = ✅ Allocate
allocate-already = This allocation was already made or cancelled: nothing changed.
allocate-already-allocated = This allocation was already made: nothing was cancelled.
allocate-done = ✅ { $amount } allocated to { $need }.
