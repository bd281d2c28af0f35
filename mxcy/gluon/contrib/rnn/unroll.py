"""dynamic_unroll: run a recurrent cell over a sequence with contrib.foreach, so a hybridized block holds one
`_foreach` node for the whole sequence instead of one copy of the cell per step."""
from ....base import _as_list
from ...rnn.rnn_cell import _format_sequence

__all__ = ["dynamic_unroll"]


def dynamic_unroll(cell, inputs, begin_state, drop_inputs=0, drop_outputs=0, layout='TNC', valid_length=None):
    """Unroll `cell` over `inputs` (one tensor in `layout`) from `begin_state`; returns (outputs in `layout`,
    final states). With `valid_length` (one length per batch item), a sequence's states stop changing after
    its last valid step and its outputs past that step are zeroed (SequenceMask)."""
    inputs, axis, F, _ = _format_sequence(0, inputs, layout, True)
    axes = None
    if axis != 0:  # foreach walks axis 0: bring time there and back
        axes = list(range(len(layout)))
        axes[0], axes[axis] = axes[axis], axes[0]
        inputs = F.transpose(inputs, axes=axes)
    if drop_inputs:
        inputs = F.Dropout(inputs, p=drop_inputs, axes=(axis,))
    states = begin_state
    if valid_length is None:
        def step(data, states):
            return cell(data, states)
    else:
        # The step number travels with the states, so each step knows which sequences are still running.
        states = list(_as_list(states)) + [F.zeros((1,))]

        def step(data, states):
            cell_states, step_no = states[:-1], states[-1]
            out, new_states = cell(data, cell_states)
            running = F.broadcast_greater(valid_length, step_no)
            new_states = [F.where(running, new, old) for new, old in zip(new_states, cell_states)]
            return out, new_states + [step_no + 1]
    outputs, states = F.contrib.foreach(step, inputs, states)
    if drop_outputs:
        outputs = F.Dropout(outputs, p=drop_outputs, axes=(axis,))
    if axes is not None:
        outputs = F.transpose(outputs, axes=axes)
    if valid_length is None:
        return outputs, states
    outputs = F.SequenceMask(outputs, sequence_length=valid_length, use_sequence_length=True, axis=axis)
    return outputs, states[:-1]
