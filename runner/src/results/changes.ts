/**
 * What a change is, as plan, deploy and rollback write it into their results (and the plan file): the semantic
 * diff of two DSLs (deploy/diff.ts computes it) and its counts. Secrets appear only as changed or unchanged.
 */

export interface FieldChange {
  path: string;
  from?: string;
  to?: string;
}

export interface NodeRef {
  id: string;
  title: string;
  type: string;
}

export interface NodeChange extends NodeRef {
  fields: FieldChange[];
}

export interface PromptChange {
  where: string;
  path: string;
  unified: string;
}

export interface ModelChange {
  where: string;
  from?: string;
  to?: string;
  params: FieldChange[];
}

export interface VarChange {
  name: string;
  change: 'added' | 'removed' | 'changed' | 'unchanged';
  secret: boolean;
  /** Non-secret values only. */
  from?: string;
  to?: string;
}

export interface DslDiff {
  /** Nothing deployed yet: everything is new. */
  create: boolean;
  app: FieldChange[];
  nodes: { added: NodeRef[]; removed: NodeRef[]; changed: NodeChange[] };
  edges: { added: string[]; removed: string[] };
  prompts: PromptChange[];
  models: ModelChange[];
  envVars: VarChange[];
  conversationVars: VarChange[];
  features: FieldChange[];
  other: FieldChange[];
}

export interface ChangeSummary {
  changed: boolean;
  create: boolean;
  nodesAdded: number;
  nodesRemoved: number;
  nodesChanged: number;
  edgesChanged: number;
  promptChanges: number;
  modelChanges: number;
  envVarChanges: number;
  secretChanges: number;
  conversationVarChanges: number;
  featureChanges: number;
  appChanges: number;
  otherChanges: number;
}
