"""What a clerk does with saraban, one module per capability, each step written once.

The web pages, the JSON API and the commands only collect input and show results; the
steps between live here, in plain Python (no Flask), taking plain values and the archive,
the service's store or the search index they need:

- :mod:`~saraban.usecases.drafting`: a draft from the first click to its preview;
- :mod:`~saraban.usecases.issuing`: a draft (or a letter file) issued under a register
  number, handed over crash-safely;
- :mod:`~saraban.usecases.cancelling`: an issued letter cancelled, its number kept;
- :mod:`~saraban.usecases.importing`: existing letters read from files and kept, one by
  one or in reviewed batches;
- :mod:`~saraban.usecases.receiving`: the incoming register (ลงทะเบียนรับ);
- :mod:`~saraban.usecases.registers`: the registers as tables, without what the user may
  not see;
- :mod:`~saraban.usecases.searching`: search, a thin call;
- :mod:`~saraban.usecases.recovery`: what a crash left between the archive and the
  service's records, settled;
- :mod:`~saraban.usecases.recipients`: the address book of offices letters are sent to;
- :mod:`~saraban.usecases.sending`: a letter sent to its recipients with private links and
  queued e-mail, tracked, reminded, acknowledged and answered through the links;
- :mod:`~saraban.usecases.consolidating`: the form replies of a circular in one table.

None of them tells the search index anything: the archive's outbox does
(:meth:`saraban.archive.Archive.on_change`).
"""
