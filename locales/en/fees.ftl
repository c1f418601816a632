# Covering the card fees on the link message, the Checkout line, and /stats.
fees-toggle-add = ➕ Add { $fee } so all of your { $amount } reaches { -beneficiary }
fees-toggle-remove = ✅ Fees covered (+{ $fee }) · tap to remove
fees-link-covered = { $fee } of it covers the card fees, so all of your { $amount } reaches { -beneficiary }.
fees-line-name = Card fees covered
fees-stats = Card fees covered by donors: { $fee } (not counted in raised)

# Impact units from the campaign file: under the donate prompt, and in the thank-you.
impact-title = <b>What a gift does</b>
impact-line = { $amount } = { $impact }
impact-thanks = Your { $amount }: { $impact }.
