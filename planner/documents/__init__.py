"""Documents for people: agendas, packs, letters, logistics and the index,
written from a plan (never from the solver) through one view-model
(:mod:`planner.documents.view`). The list of every writer, invitations
included, is composed one layer up, in :mod:`planner.orchestrate.documents`."""
