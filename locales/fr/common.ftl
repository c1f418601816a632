# Noms partagés et réponses communes à toutes les fonctions.
-campaign-name = Aidons les réfugiés de Calais — Hiver
-beneficiary = l'Auberge des Migrants

common-unknown-command = Je ne connais pas cette commande. Envoyez /help pour voir ce que je sais faire.
common-free-text = Je réponds aux commandes et aux boutons. Envoyez /help pour voir ce que je sais faire, ou /donate pour donner.
common-error = Un problème est survenu de mon côté. Merci de réessayer dans un instant.
common-unavailable = Je n'arrive pas à accéder à mes données pour le moment. Merci de réessayer dans quelques minutes.
common-button-expired = Ce bouton n'est plus valable. Envoyez /start pour recommencer.
common-cancelled = Annulé.
common-button-cancel = Annuler
