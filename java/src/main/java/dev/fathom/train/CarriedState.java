package dev.fathom.train;

import dev.fathom.data.Batch;
import dev.fathom.tensor.Tensor;

/**
 * The forward pass of a model that carries state from one batch to the next, for
 * {@link Trainer.Builder#carriedState}: a recurrent language model's hidden state, carried
 * between the adjacent windows of sequential sampling (truncated backpropagation through time).
 * The trainer holds the state: null at the start of every epoch, afterwards what {@link #carry}
 * returned for the previous batch; it releases each one when it is replaced and at the end of the epoch.
 *
 * <pre>{@code
 * Trainer.builder(lm, new CrossEntropyLoss(), sgd).carriedState(new CarriedState<CharLanguageModel.State>() {
 *   public Forward<CharLanguageModel.State> forward(Batch b, CharLanguageModel.State s) { ... }
 *   public CharLanguageModel.State carry(CharLanguageModel.State after) { return after.detach(); }
 *   public void release(CharLanguageModel.State s) { s.close(); }
 * }).build();
 * }</pre>
 *
 * @param <S> the state
 */
public interface CarriedState<S> {
  /**
   * One training batch's forward pass from `state` (null: the model's initial state): what the
   * loss compares and the state after the batch.
   */
  Forward<S> forward(Batch batch, S state);

  /**
   * Called after the optimizer step with the batch's final state: the state for the next batch,
   * which must outlive the step's scope (e.g. detached and unscoped), or null to start it afresh.
   */
  S carry(S after);

  /** Frees a state that {@link #carry} returned. */
  void release(S state);

  /**
   * The output and target the loss is applied to, the state after the batch, and the number of
   * examples (predictions) the loss averages over: the batch's weight in the epoch's mean loss.
   */
  record Forward<S>(Tensor output, Tensor target, S state, long examples) {}
}
