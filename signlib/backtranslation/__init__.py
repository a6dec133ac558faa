"""Back-translation: the pose-to-text model that evaluation uses to score generated signing by BLEU.

- :mod:`~signlib.backtranslation.configs`: its config;
- :mod:`~signlib.backtranslation.model`: the network (strided Conv1d front end, transformer
  encoder with an optional gloss CTC head, word decoder);
- :mod:`~signlib.backtranslation.training`: batches (speed and noise augmentation) and the loss;
- :mod:`~signlib.backtranslation.translate`: greedy decoding and the model folder.
"""
