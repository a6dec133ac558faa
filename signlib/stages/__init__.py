"""The stage layer: one module per DVC stage, holding the orchestration its notebook (or command) runs.

Notebook stages (``open_stage`` from :mod:`~signlib.stages.common`, then calls into the stage's
module, then figures and tables): ``corpus`` (01), ``fast`` (02), ``keyframes`` (03),
``signspark`` (04), ``evaluate`` (05), ``ablations`` (06), ``render`` (07), ``report`` (08). Training stages (``python -m signlib.stages.<stage>``, see
:mod:`~signlib.stages.training`): ``train_fast``, ``train_text2gloss``, ``train_signspark``,
``train_backtranslation``, ``train_regression``, ``train_soke``, ``train_signllm``, ``train_realdata``,
``train_ablation``. Helpers shared by several stages: :mod:`~signlib.stages.paths` (where products live),
:mod:`~signlib.stages.realdata` (the real DGS sentences as a check) and :mod:`~signlib.stages.t2p_baselines`
(the SOKE-style and SignLLM baselines as evaluation loads them). Not a stage:
:mod:`~signlib.stages.explore`, what the interactive ``notebooks/explore.ipynb`` loads and builds.

Stages import everything below them; nothing below imports a stage.
"""
