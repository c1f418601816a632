# Tax receipts: whether gifts give one (under /donate and /help), the organizer's
# /export receipts, and a donor's yearly statement from /mygift.
receipts-none = This collection is run by volunteers: gifts give no tax receipt or tax reduction.
receipts-issued-by = Tax receipts are issued by { $name }: Stripe's page asks for your name and postal address for yours.
receipts-export-none = No tax receipts can be issued: the campaign file names no association as receipt issuer ([receipts] issuer).
receipts-export-caption = Tax receipts list: { $count ->
        [one] 1 gift
       *[other] { $count } gifts
    }, each with its receipt number, which stays the same in every export. Gifts refunded in full before their receipt was issued are left out; a receipt issued stays, also after a refund, its status saying what to cancel or correct. It holds donors' names and addresses: keep it safe.
receipts-unknown = unknown
receipts-method = { $method ->
        [card] card
        [sepa_debit] SEPA direct debit
       *[other] { $method }
    }
receipts-column-number = receipt number
receipts-column-donor = donor
receipts-column-address = address
receipts-column-postal-code = postal code
receipts-column-city = city
receipts-column-country = country
receipts-column-amount = amount
receipts-column-amount-words = amount in words (French)
receipts-column-currency = currency
receipts-column-date = date of the gift
receipts-column-method = payment method
receipts-column-article = legal article
receipts-column-issuer = issuer
receipts-column-issuer-address = issuer's address
receipts-column-issuer-object = issuer's object
receipts-column-issuer-identifier = SIREN or RNA number
receipts-column-signatory = signatory
receipts-column-status = status
receipts-status = { $after ->
        [refunded] refunded after issue: cancel this receipt
        [partly] partly refunded after issue: amount kept { $kept }
       *[none] issued
    }
receipts-forget = Tax receipts already issued for your gifts stay with { $name }, which must keep them for the tax office: with your name and address, but no longer linked to your Telegram account. From the gifts whose receipt was not issued yet, your name and address are erased.
receipts-statement-button = 📄 My { $year } statement
receipts-statement-title = <b>Your gifts in { $year }</b>
receipts-statement-not-receipt = This is not a tax receipt: this collection is run by volunteers, and gifts give no tax reduction.
receipts-statement-issued = Tax receipts are issued by { $name }; each gift's receipt number is below.
receipts-statement-item = • { $date }: <b>{ $amount }</b>{ $status ->
        [numbered] {" "}— receipt no. { $receipt }
        [pending] {" "}— receipt not issued yet
       *[none] {""}
    }{ $after ->
        [refunded] {" "}(refunded after issue)
        [partly] {" "}(partly refunded after issue: amount kept { $kept })
       *[none] {""}
    }
receipts-statement-total = Total in { $year }: <b>{ $total }</b>
receipts-statement-empty = No gifts in { $year }.
receipts-statement-earlier = ◀ { $year }
receipts-statement-later = { $year } ▶
