package dev.fathom.optim;

/**
 * Changes an optimizer's learning rate once per epoch, as PyTorch's
 * {@code torch.optim.lr_scheduler}. Creating a scheduler sets epoch 0's rate; call
 * {@link #step()} after each epoch's optimizer steps.
 *
 * <pre>{@code
 * LRScheduler sched = new StepLR(opt, 30, 0.1);
 * for (int epoch = 0; epoch < 90; epoch++) { trainOneEpoch(opt); sched.step(); }
 * }</pre>
 */
public interface LRScheduler {
  /** Ends an epoch: sets the optimizer's learning rate for the next one. */
  void step();

  /** The learning rate this scheduler set last (PyTorch's {@code get_last_lr()}). */
  double lastLearningRate();

  /**
   * The scheduler's position for a checkpoint, as PyTorch's {@code state_dict()}
   * ({@code last_epoch}, {@code base_lr}, {@code last_lr}, ...). Schedulers that
   * cannot be checkpointed throw {@link UnsupportedOperationException}.
   */
  default java.util.Map<String, Double> stateDict() {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot be checkpointed");
  }

  /** Restores {@link #stateDict()} and sets the optimizer's rate to {@code last_lr}. */
  default void loadStateDict(java.util.Map<String, Double> state) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot be checkpointed");
  }
}
