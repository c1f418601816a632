# Couvrir les frais de carte sur le message du lien, la ligne du paiement Stripe, et /stats.
fees-toggle-add = ➕ Ajouter { $fee } pour que vos { $amount } aillent en entier à { -beneficiary }
fees-toggle-remove = ✅ Frais couverts (+{ $fee }) · touchez pour retirer
fees-link-covered = Dont { $fee } pour les frais de carte : vos { $amount } vont en entier à { -beneficiary }.
fees-line-name = Frais de carte couverts
fees-stats = Frais de carte couverts par les donateurs : { $fee } (hors montant collecté)

# Les unités d'impact du fichier de campagne : sous l'invitation à donner, et dans le merci.
impact-title = <b>Ce que permet un don</b>
impact-line = { $amount } = { $impact }
impact-thanks = Vos { $amount } : { $impact }.
