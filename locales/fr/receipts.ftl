# Reçus fiscaux : si les dons en donnent un (sous /donate et /help), l'/export receipts des
# organisateurs, et le récapitulatif annuel d'un donateur depuis /mygift.
receipts-none = Cette collecte est menée par des bénévoles : les dons ne donnent ni reçu fiscal ni réduction d'impôt.
receipts-issued-by = Les reçus fiscaux sont émis par { $name } : la page de Stripe vous demande votre nom et votre adresse postale pour le vôtre.
receipts-export-none = Aucun reçu fiscal ne peut être émis : le fichier de campagne ne désigne aucune association comme émettrice ([receipts] issuer).
receipts-export-caption = Liste des reçus fiscaux : { $count ->
        [one] 1 don
       *[other] { $count } dons
    }, chacun avec son numéro de reçu, qui reste le même à chaque export. Les dons remboursés en totalité avant l'émission de leur reçu n'y figurent pas ; un reçu émis y reste, même après un remboursement, son statut indiquant ce qu'il faut annuler ou corriger. Elle contient les noms et adresses des donateurs : conservez-la en lieu sûr.
receipts-unknown = inconnu
receipts-method = { $method ->
        [card] carte bancaire
        [sepa_debit] prélèvement SEPA
       *[other] { $method }
    }
receipts-column-number = numéro d'ordre du reçu
receipts-column-donor = donateur
receipts-column-address = adresse
receipts-column-postal-code = code postal
receipts-column-city = commune
receipts-column-country = pays
receipts-column-amount = montant
receipts-column-amount-words = somme en toutes lettres
receipts-column-currency = devise
receipts-column-date = date du don
receipts-column-method = mode de versement
receipts-column-article = article de loi
receipts-column-issuer = organisme bénéficiaire
receipts-column-issuer-address = adresse de l'organisme
receipts-column-issuer-object = objet de l'organisme
receipts-column-issuer-identifier = numéro SIREN ou RNA
receipts-column-signatory = signataire
receipts-column-status = statut
receipts-status = { $after ->
        [refunded] remboursé après émission : reçu à annuler
        [partly] remboursé en partie après émission : montant conservé { $kept }
       *[none] émis
    }
receipts-forget = Les reçus fiscaux déjà émis pour vos dons restent chez { $name }, qui doit les conserver pour l'administration fiscale : avec vos nom et adresse, mais sans plus aucun lien avec votre compte Telegram. Des dons dont le reçu n'a pas encore été émis, vos nom et adresse sont effacés.
receipts-statement-button = 📄 Mon récapitulatif { $year }
receipts-statement-title = <b>Vos dons en { $year }</b>
receipts-statement-not-receipt = Ceci n'est pas un reçu fiscal : cette collecte est menée par des bénévoles, et les dons ne donnent pas de réduction d'impôt.
receipts-statement-issued = Les reçus fiscaux sont émis par { $name } ; le numéro de reçu de chaque don figure ci-dessous.
receipts-statement-item = • { $date } : <b>{ $amount }</b>{ $status ->
        [numbered] {" "}— reçu n° { $receipt }
        [pending] {" "}— reçu pas encore émis
       *[none] {""}
    }{ $after ->
        [refunded] {" "}(remboursé après émission)
        [partly] {" "}(remboursé en partie après émission : montant conservé { $kept })
       *[none] {""}
    }
receipts-statement-total = Total en { $year } : <b>{ $total }</b>
receipts-statement-empty = Aucun don en { $year }.
receipts-statement-earlier = ◀ { $year }
receipts-statement-later = { $year } ▶
