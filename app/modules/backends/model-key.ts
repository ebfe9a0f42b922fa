/**
 * The model a render needs loaded: one workflow/checkpoint per operation and
 * scene. why one function: the dispatcher, the simulation, the UI and the
 * backends that report what they have loaded must agree on what counts as "the same model".
 */
export function modelKey(render: { operation: string; sceneId: string }): string {
  return `${render.operation}:${render.sceneId}`
}
