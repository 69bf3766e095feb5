import org.jenkinsci.plugins.workflow.steps.FlowInterruptedException

// difyPipeline: the org-wide standard pipeline in one call, driven by the tenant repo's dify-ci.yml.
//   Validate -> Plan (pull requests stop here) -> for each environment: [Approve] -> Deploy -> Smoke
//   on failure: roll back what this build deployed (its own targets only), then notify; aborted: notify only;
//   on success: notify.
// Scripted, not declarative: the environments come from dify-ci.yml at run time (declarative stages are fixed
// when the Jenkinsfile is compiled), `input` waits outside any node, and lock + milestone wrap each deploy.
// Options and parameters: vars/difyPipeline.txt and jenkins-shared-library.md.
def call(Map overrides = [:]) {
    Map o = checkOverrides(overrides)
    if (o.jobProperties != false) {
        properties(jobProperties(o))
    }
    boolean pr = env.CHANGE_ID ? true : false // pull requests never take the manual entry points
    Map state = [o: o, tag: pr ? '' : (params.DIFY_DEPLOY_TAG ?: ''), rollback: pr ? '' : (params.DIFY_ROLLBACK_ENV ?: ''),
               label: o.agentLabel, nodejsTool: o.nodejsTool, deployed: [], rolledBack: [], approvers: [:], stashes: [], branch: null]
    String outcome = 'success'
    Throwable caught = null
    try {
        if (state.tag && !(state.tag ==~ /[A-Za-z0-9][A-Za-z0-9._\/-]*/)) {
            error("DIFY_DEPLOY_TAG '${state.tag}' is not a tag name")
        }
        onAgent(state) {
            // The runner resolves the options over pipeline: of dify-ci.yml, checks them, and decides each
            // environment's gate from this build's facts (state.branch is known: the checkout ran before this body).
            state.ctx = difyRun.context('pipeline', null, o.config, [overrides: pipelineOptions(o), branch: state.branch,
                                                                     tag: state.tag ?: (env.TAG_NAME ?: null), buildNumber: env.BUILD_NUMBER])
            state.p = state.ctx.pipeline
            state.label = state.p.agentLabel
            if (state.p.nodejsTool && state.p.nodejsTool != state.nodejsTool) {
                state.nodejsTool = state.p.nodejsTool // known only now that the configuration was read
                withNodejs(state) {
                    validateAndPlan(state, pr)
                }
            } else {
                validateAndPlan(state, pr)
            }
        }
        if (state.rollback) {
            manualRollback(state)
        } else if (pr) {
            echo('dify-ci: pull request build, stopping after Plan (the plan is archived for the PR comment)')
        } else {
            deliver(state)
        }
    } catch (FlowInterruptedException err) {
        outcome = 'aborted' // input rejected or timed out, superseded by a newer build (milestone), or Abort
        caught = err
    } catch (err) {
        outcome = 'failure'
        caught = err
    }
    finish(state, outcome, pr)
    if (caught != null) {
        throw caught
    }
}

def validateAndPlan(Map state, boolean pr) {
    if (state.rollback) {
        return // the manual rollback entry point skips the checks
    }
    stage('Validate') {
        difyValidate(config: state.o.config)
    }
    stage('Plan') {
        if (pr) {
            readTrusted(state.o.config ?: 'dify-ci.yml') // an untrusted PR may not redirect our credentials
        }
        for (int i = 0; i < state.p.environments.size(); i++) {
            String e = state.p.environments[i]
            Map plan = difyPlan(env: e, config: state.o.config)
            if (plan.data?.markdown) {
                writeFile(file: ".dify-ci/reports/plan-${e}.md", text: plan.data.markdown, encoding: 'UTF-8') // for the PR comment
            }
        }
    }
}

def deliver(Map state) {
    List envs = state.p.environments
    for (int i = 0; i < envs.size(); i++) {
        String e = envs[i]
        Map d = state.ctx.environmentDetails[e]
        String gate = d.gate // 'go' (no approval needed), 'ask' (input), or 'stop' (the policy keeps this build out)
        if (gate == 'stop') {
            echo("dify-ci: approval policy '${state.p.approvalPolicy}' does not offer this build for ${e}; stopping before it")
            return
        }
        String approver = gate == 'ask' ? approve(state, e, d, "Deploy to ${e}", 10 * i) : null
        state.approvers[e] = approver // a protected environment's rollback needs it too
        lock(resource: "dify-${e}", inversePrecedence: true) {
            milestone(ordinal: 10 * i + 3, label: "deploy ${e}")
            try {
                if (((state.p.shards ?: 1) as int) > 1 && ((d.waves ?: 0) as int) > 0) {
                    deployInWaves(state, e, d, approver)
                } else {
                    stage("Deploy ${e}") {
                        deployTo(state, e, approver, null)
                    }
                }
                stage("Smoke ${e}") {
                    smoke(state, e, d)
                }
            } catch (FlowInterruptedException err) {
                throw err
            } catch (err) {
                try {
                    rollBack(state, e) // still holding the lock, so a newer build's deploy cannot be undone
                } catch (rollbackErr) {
                    echo("dify-ci: rolling back ${e} failed: ${rollbackErr.message}")
                }
                throw err
            }
        }
        if (state.stopped) {
            echo("dify-ci: smoke tests failed in ${e} (UNSTABLE); not promoting further")
            return
        }
    }
}

// Waits for a human without holding an executor; milestones drop older builds still waiting.
String approve(Map state, String e, Map d, String ok, Integer ordinal) {
    String approver = null
    stage("Approve ${e}") {
        if (ordinal != null) {
            milestone(ordinal: ordinal + 1, label: "approve ${e}")
        }
        Map ask = [message: ordinal == null ? "${ok}?" : d.message, ok: ok, submitterParameter: 'approver']
        if (d.submitter) {
            ask.submitter = d.submitter
        }
        timeout(time: d.timeoutMinutes ?: 60, unit: 'MINUTES') {
            def answer = input(ask)
            approver = answer instanceof Map ? answer.approver : answer
        }
        if (ordinal != null) {
            milestone(ordinal: ordinal + 2, label: "approved ${e}")
        }
    }
    return approver
}

// wave: null, or (sharded gray release) the wave every shard deploys its part of.
def deployTo(Map state, String e, String approver, Integer wave) {
    int shards = (state.p.shards ?: 1) as int
    if (shards < 2) {
        onAgent(state) {
            markDeployed(state, e) // before: a deploy that fails half-way is rolled back too (this build's targets only)
            difyDeploy(env: e, config: state.o.config, approvedBy: approver)
        }
        return
    }
    Map branches = [:]
    for (int k = 1; k <= shards; k++) {
        String shard = "${k}/${shards}"
        branches.put("shard ${shard}".toString(), {
            onAgent(state) {
                markDeployed(state, e) // even if every shard fails: any target one of them deployed is undone
                difyDeploy(env: e, config: state.o.config, approvedBy: approver, shard: shard, wave: wave) // the runner ignores a null wave
            }
        })
    }
    parallel(branches)
}

// Sharded gray release: every shard deploys its part of wave k, then one gate smokes all of wave k (rollout.gate),
// then wave k+1 - all inside the lock; a failed gate fails the build and deliver rolls back this build's deploys.
def deployInWaves(Map state, String e, Map d, String approver) {
    int waves = d.waves as int
    for (int k = 1; k <= waves; k++) {
        int wave = k
        stage("Deploy ${e} wave ${wave}/${waves}") {
            deployTo(state, e, approver, wave)
        }
        if (d.hasSmoke) { // without suites the deploys are the gate: a failed shard fails the build
            stage("Gate ${e} wave ${wave}/${waves}") {
                onAgent(state) {
                    difySmoke(env: e, config: state.o.config, wave: wave, reportDir: ".dify-ci/reports/smoke-${e}-wave-${wave}".toString())
                }
            }
        }
    }
}

def markDeployed(Map state, String e) {
    if (!state.deployed.contains(e)) {
        state.deployed << e
    }
}

def smoke(Map state, String e, Map d) {
    if (!d.hasSmoke) {
        echo("dify-ci: no smoke suites configured for ${e}")
        return
    }
    onAgent(state) {
        Map result = difySmoke(env: e, config: state.o.config, unstable: state.p.smokeUnstable == true, reportDir: ".dify-ci/reports/smoke-${e}")
        state.stopped = result.exitCode != 0
    }
}

// Only what this build deployed (--this-build): the runner finds it in every agent's deploy result files, unstashed
// here, and skips a target where a newer deploy is live. Never `--to previous` over every target.
def rollBack(Map state, String e) {
    if (state.deployed.contains(e) && !state.rolledBack.contains(e)) {
        state.rolledBack << e
        stage("Roll back ${e}") {
            onAgent(state) {
                unstashAll(state, true)
                difyRollback(env: e, config: state.o.config, approvedBy: state.approvers[e], thisBuild: true, results: '.dify-ci/results')
            }
        }
    }
}

// Every agent's results and reports into this workspace (this node claims its own stash only in its finally).
// lenient (rollback): a stash that was never saved is skipped with a warning, not a reason to roll nothing back.
def unstashAll(Map state, boolean lenient) {
    List names = new ArrayList(state.stashes)
    for (int i = 0; i < names.size(); i++) {
        try {
            unstash(names[i])
        } catch (FlowInterruptedException err) {
            throw err
        } catch (err) {
            if (!lenient) {
                throw err
            }
            echo("dify-ci: cannot unstash ${names[i]} (${err.message}); rolling back with the results of the other agents")
        }
    }
}

def manualRollback(Map state) {
    String e = state.rollback
    Map d = state.ctx.environmentDetails[e]
    if (d == null) {
        error("DIFY_ROLLBACK_ENV: no environment '${e}' in dify-ci.yml (known: ${state.ctx.environments.join(', ')})")
    }
    String approver = d.gate == 'go' ? null : approve(state, e, d, "Roll back ${e}", null) // the policy's 'stop' still asks
    lock(resource: "dify-${e}", inversePrecedence: true) {
        stage("Roll back ${e}") {
            onAgent(state) {
                difyRollback(env: e, config: state.o.config, approvedBy: approver, to: params.DIFY_ROLLBACK_TO ?: null, app: params.DIFY_ROLLBACK_APP ?: null)
            }
        }
    }
}

// The `post` of this pipeline: failure -> roll back what this build deployed (newest environment first), then notify.
def finish(Map state, String outcome, boolean pr) {
    if (outcome == 'failure') { // aborted: nothing rolled back; the notify `on:` rules decide who hears of it
        currentBuild.result = 'FAILURE'
        for (int i = state.deployed.size() - 1; i >= 0; i--) {
            String e = state.deployed[i]
            if (state.rolledBack.contains(e)) {
                continue
            }
            try {
                lock(resource: "dify-${e}", inversePrecedence: true) {
                    rollBack(state, e)
                }
            } catch (err) {
                echo("dify-ci: rolling back ${e} failed: ${err.message}")
            }
        }
    }
    if (state.ctx == null || (pr && outcome == 'success')) {
        return // no readable configuration to notify with; successful PR builds stay quiet
    }
    String status = outcome == 'success' ? (currentBuild.currentResult == 'UNSTABLE' ? 'unstable' : 'success') : outcome
    // `on: [fixed]` needs the previous result; the notify history in the workspace may be on another agent.
    String previous = currentBuild.previousBuild?.result
    stage('Notify') {
        try {
            onAgent(state) {
                unstashAll(state, false)
                Map args = [status: status, config: state.o.config, results: '.dify-ci/results'] // where difyRun puts them
                if (previous) {
                    args.previousStatus = previous.toLowerCase()
                }
                difyNotify(args)
            }
        } catch (err) {
            if (outcome == 'success') {
                throw err
            }
            echo("dify-ci: notification failed: ${err.message}")
        }
    }
}

// Every node block: fresh checkout, the NodeJS tool on PATH, and the reports kept (archived + stashed for notify).
def onAgent(Map state, Closure body) {
    node(state.label ?: '') { // '' = any agent
        inWorkspace(state, body)
    }
}

def inWorkspace(Map state, Closure body) {
    Map scmVars
    if (state.tag) {
        String ref = "refs/tags/${state.tag}".toString() // plain Strings: nested GStrings are not always coerced
        Map remote = [url: scm.userRemoteConfigs[0].url, credentialsId: scm.userRemoteConfigs[0].credentialsId, refspec: "+${ref}:${ref}".toString()]
        scmVars = checkout([$class: 'GitSCM', branches: [[name: ref]], userRemoteConfigs: [remote]])
    } else {
        scmVars = checkout(scm)
    }
    if (state.branch == null) {
        state.branch = env.BRANCH_NAME ?: ((scmVars?.GIT_BRANCH ?: '') as String).replaceFirst('^origin/', '')
    }
    // This build's results only: a stale file left by an earlier build would be stashed and, unstashed later, could
    // overwrite this build's file of the same name (the rollback would not see a deploy, notify would miss it).
    dir('.dify-ci/results') {
        deleteDir()
    }
    try {
        withNodejs(state, body)
    } finally {
        String stashName = "dify-ci-${state.stashes.size() + 1}"
        state.stashes << stashName // claimed before any step runs, so parallel shards never share a name
        archiveArtifacts(artifacts: '.dify-ci/**', allowEmptyArchive: true)
        stash(name: stashName, includes: '.dify-ci/results/**,.dify-ci/reports/**,.dify-ci/backups/**', allowEmpty: true)
    }
}

def withNodejs(Map state, Closure body) {
    if (!state.nodejsTool) {
        return body()
    }
    String home = tool(name: state.nodejsTool, type: 'jenkins.plugins.nodejs.tools.NodeJSInstallation')
    withEnv([isUnix() ? "PATH+NODEJS=${home}/bin" : "PATH+NODEJS=${home}"]) {
        body()
    }
}

// Only the option names are checked here; the runner checks the values (and that the environments exist).
Map checkOverrides(Map overrides) {
    List known = ['config', 'agentLabel', 'nodejsTool', 'environments', 'approvalPolicy', 'everyNth', 'mainBranch', 'shards',
                  'smokeUnstable', 'pollSCM', 'jobProperties']
    List keys = new ArrayList(overrides.keySet())
    for (int i = 0; i < keys.size(); i++) {
        if (!known.contains(keys[i])) {
            error("difyPipeline: unknown option '${keys[i]}' (known: ${known.join(', ')})")
        }
    }
    return [:] + overrides
}

// The options for `dify-ci context` (which resolves them over pipeline: of dify-ci.yml): all but the Groovy-only ones.
Map pipelineOptions(Map o) {
    Map out = [:]
    List keys = new ArrayList(o.keySet())
    for (int i = 0; i < keys.size(); i++) {
        if (!['config', 'pollSCM', 'jobProperties'].contains(keys[i])) {
            out[keys[i] as String] = o[keys[i]]
        }
    }
    return out
}

List jobProperties(Map o) {
    List props = [parameters([
        string(name: 'DIFY_DEPLOY_TAG', defaultValue: '', description: 'Manual entry point: deploy this git tag instead of the branch head.'),
        string(name: 'DIFY_ROLLBACK_ENV', defaultValue: '', description: 'Manual entry point: roll back this environment (e.g. production) instead of deploying.'),
        string(name: 'DIFY_ROLLBACK_TO', defaultValue: '', description: 'With DIFY_ROLLBACK_ENV: the version to restore (empty: the previous one).'),
        string(name: 'DIFY_ROLLBACK_APP', defaultValue: '', description: 'With DIFY_ROLLBACK_ENV: only this app (empty: every app).'),
    ])]
    if (o.pollSCM) {
        props << pipelineTriggers([pollSCM(o.pollSCM)])
    }
    return props
}
