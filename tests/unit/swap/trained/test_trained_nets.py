"""The networks' contracts the trainer relies on."""

import pytest
import torch

from facecraft.swap.trained.nets import PatchDiscriminator, preset_config


@pytest.mark.parametrize("preset", ["tiny", "cpu", "df"])
def test_the_critic_scores_each_face_on_its_own(preset: str) -> None:
    """The trainer scores real and fake faces in one batch: that is only the same as two passes while the
    critic keeps no batch statistics."""
    torch.manual_seed(0)
    critic = PatchDiscriminator(preset_config(preset, 64, "face")).train()
    real, fake = torch.rand(3, 3, 64, 64), torch.rand(3, 3, 64, 64)
    together = critic(torch.cat([real, fake]))
    apart = torch.cat([critic(real), critic(fake)])
    assert together.shape[0] == 6 and together.shape[1] == 1
    torch.testing.assert_close(together, apart, rtol=1e-5, atol=1e-5)
