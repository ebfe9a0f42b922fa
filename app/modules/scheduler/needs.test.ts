import { describe, expect, it } from 'vitest'
import type { BackendCapabilities } from '#app/modules/backends/types.ts'
import { needsOf, type DispatchBackend } from './dispatcher.server.ts'
import { markets } from '#app/modules/looks/index.ts'
import { canTake, capable, type BackendView } from './policy.ts'

function backend(id: string, type: BackendCapabilities['type'], tenantId: string | null): DispatchBackend {
  const caps: BackendCapabilities = { type, operations: ['scene_swap', 'model_swap'], personas: true, maxEdge: 2048, models: [], slots: 1 }
  return { id, tenantId, capabilities: () => caps }
}

function view(b: DispatchBackend): BackendView {
  const c = b.capabilities()
  return { id: b.id, type: c.type, operations: c.operations, personas: c.personas, maxEdge: c.maxEdge, slots: 1, busy: 0, switchesModels: true, circuit: 'closed' }
}

const render = (tenantId: string, backendId: string) => ({
  tenantId,
  operation: 'scene_swap',
  personaId: null,
  backend: backendId,
  outputWidth: 1536,
  outputHeight: 2048,
})

describe('needsOf: where a render may run', () => {
  const deployment = backend('comfyui-gpu-1', 'comfyui', null)
  const shopA = backend('cfg-a', 'comfyui', 'shop-a')
  const shopB = backend('cfg-b', 'comfyui', 'shop-b')
  const cpu = backend('cpu-studio', 'cpu-studio', null)
  const all = [shopA, shopB, deployment, cpu]

  it("moves between the deployment's servers and the shop's own, never onto another shop's", () => {
    const needs = needsOf(render('shop-a', 'cfg-a'), all)
    const where = all.filter((b) => capable(view(b), needs)).map((b) => b.id)
    expect(where.sort()).toEqual(['cfg-a', 'comfyui-gpu-1'])
    const other = needsOf(render('shop-c', 'comfyui-gpu-1'), all)
    expect(all.filter((b) => capable(view(b), other)).map((b) => b.id)).toEqual(['comfyui-gpu-1'])
  })

  it('keeps a render made for an in-process backend on it', () => {
    const needs = needsOf(render('shop-a', 'cpu-studio'), all)
    expect(all.filter((b) => capable(view(b), needs)).map((b) => b.id)).toEqual(['cpu-studio'])
  })

  it('names backends of other types the shop can use as fallbacks, never another shop\'s', () => {
    const hostedA = backend('cfg-hosted-a', 'weshop', 'shop-a')
    const hostedB = backend('cfg-hosted-b', 'weshop', 'shop-b')
    const list = [...all, hostedA, hostedB]
    const needs = needsOf({ ...render('shop-a', 'cfg-a'), sceneId: markets[0].defaultScenes[0] }, list)
    expect([...(needs.fallback ?? [])].sort()).toEqual(['cfg-hosted-a', 'cpu-studio'])
    expect(list.filter((b) => canTake(view(b), needs)).map((b) => b.id).sort()).toEqual(['cfg-a', 'cfg-hosted-a', 'comfyui-gpu-1', 'cpu-studio'])
  })
})
