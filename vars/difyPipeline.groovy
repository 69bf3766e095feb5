import org.jenkinsci.plugins.workflow.steps.FlowInterruptedException

// difyPipeline: the org-wide standard pipeline in one call, driven by the tenant repo's dify-ci.yml.
//   Validate -> Plan (pull requests stop here) -> for each environment: [Approve] -> Deploy -> Smoke
//   on failure: roll back every environment this build deployed to, then notify; on success: notify.
// Scripted, not declarative: the environments come from dify-ci.yml at run time (declarative stages are fixed
// when the Jenkinsfile is compiled), `input` waits outside any node, and lock + milestone wrap each deploy.
// Options and parameters: vars/difyPipeline.txt and jenkins-shared-library.md.
def call(Map overrides = [:]) {
    Map o = checkOverrides(overrides)
    if (o.jobProperties != false) {
        properties(jobProperties(o))
    }
    boolean pr = env.CHANGE_ID ? true : false // pull requests never take the manual entry points
    Map run = [o: o, tag: pr ? '' : (params.DIFY_DEPLOY_TAG ?: ''), rollback: pr ? '' : (params.DIFY_ROLLBACK_ENV ?: ''),
               label: o.agentLabel, nodejsTool: o.nodejsTool, deployed: [], rolledBack: [], approvers: [:], stashes: [], branch: null]
    String outcome = 'success'
    Throwable caught = null
    try {
        if (run.tag && !(run.tag ==~ /[A-Za-z0-9][A-Za-z0-9._\/-]*/)) {
            error("DIFY_DEPLOY_TAG '${run.tag}' is not a tag name")
        }
        onAgent(run) {
            run.ctx = difyRun.context('pipeline', null, o.config)
            run.p = settings(run.ctx.pipeline, o)
            run.label = run.p.agentLabel
            if (run.p.nodejsTool && run.p.nodejsTool != run.nodejsTool) {
                run.nodejsTool = run.p.nodejsTool // known only now that the configuration was read
                withNodejs(run) {
                    validateAndPlan(run, pr)
                }
            } else {
                validateAndPlan(run, pr)
            }
        }
        if (run.rollback) {
            manualRollback(run)
        } else if (pr) {
            echo('dify-ci: pull request build, stopping after Plan (the plan is archived for the PR comment)')
        } else {
            deliver(run)
        }
    } catch (FlowInterruptedException err) {
        outcome = 'aborted' // input rejected or timed out, superseded by a newer build (milestone), or Abort
        caught = err
    } catch (err) {
        outcome = 'failure'
        caught = err
    }
    finish(run, outcome, pr)
    if (caught != null) {
        throw caught
    }
}

def validateAndPlan(Map run, boolean pr) {
    if (run.rollback) {
        return // the manual rollback entry point skips the checks
    }
    stage('Validate') {
        difyValidate(config: run.o.config)
    }
    stage('Plan') {
        if (pr) {
            readTrusted(run.o.config ?: 'dify-ci.yml') // an untrusted PR may not redirect our credentials
        }
        for (int i = 0; i < run.p.environments.size(); i++) {
            String e = run.p.environments[i]
            Map plan = difyPlan(env: e, config: run.o.config)
            if (plan.data?.markdown) {
                writeFile(file: ".dify-ci/reports/plan-${e}.md", text: plan.data.markdown, encoding: 'UTF-8') // for the PR comment
            }
        }
    }
}

def deliver(Map run) {
    List envs = run.p.environments
    for (int i = 0; i < envs.size(); i++) {
        String e = envs[i]
        Map d = run.ctx.environmentDetails[e]
        String gate = gateFor(run, d)
        if (gate == 'stop') {
            echo("dify-ci: approval policy '${run.p.approvalPolicy}' does not offer this build for ${e}; stopping before it")
            return
        }
        String approver = gate == 'ask' ? approve(run, e, d, "Deploy to ${e}", 10 * i) : null
        run.approvers[e] = approver // a protected environment's rollback needs it too
        lock(resource: "dify-${e}", inversePrecedence: true) {
            milestone(ordinal: 10 * i + 3, label: "deploy ${e}")
            try {
                stage("Deploy ${e}") {
                    deployTo(run, e, approver)
                }
                stage("Smoke ${e}") {
                    smoke(run, e, d)
                }
            } catch (FlowInterruptedException err) {
                throw err
            } catch (err) {
                try {
                    rollBack(run, e) // still holding the lock, so a newer build's deploy cannot be undone
                } catch (rollbackErr) {
                    echo("dify-ci: rolling back ${e} failed: ${rollbackErr.message}")
                }
                throw err
            }
        }
        if (run.stopped) {
            echo("dify-ci: smoke tests failed in ${e} (UNSTABLE); not promoting further")
            return
        }
    }
}

// 'go' (no approval needed), 'ask' (input), or 'stop' (the policy keeps this build out of the environment).
// A protected environment always gets an approver: the runner refuses to change it without one.
String gateFor(Map run, Map d) {
    String policy = run.p.approvalPolicy
    if (!d.approvalRequired && !d.protected) {
        return 'go'
    }
    if (policy == 'never') {
        return d.protected ? 'ask' : 'go'
    }
    if (policy == 'always') {
        return 'ask'
    }
    if (policy == 'main-branch') {
        return run.branch == run.p.mainBranch ? 'ask' : 'stop'
    }
    if (policy == 'tags') {
        return env.TAG_NAME || run.tag ? 'ask' : 'stop'
    }
    if (policy == 'every-nth') {
        return (env.BUILD_NUMBER as int) % (run.p.everyNth as int) == 0 ? 'ask' : 'stop'
    }
    error("unknown approval policy '${policy}'")
}

// Waits for a human without holding an executor; milestones drop older builds still waiting.
String approve(Map run, String e, Map d, String ok, Integer ordinal) {
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

def deployTo(Map run, String e, String approver) {
    int shards = (run.p.shards ?: 1) as int
    if (shards < 2) {
        onAgent(run) {
            difyDeploy(env: e, config: run.o.config, approvedBy: approver)
            markDeployed(run, e)
        }
        return
    }
    Map branches = [:]
    for (int k = 1; k <= shards; k++) {
        String shard = "${k}/${shards}"
        branches.put("shard ${shard}".toString(), {
            onAgent(run) {
                difyDeploy(env: e, config: run.o.config, approvedBy: approver, shard: shard)
                markDeployed(run, e) // a partly deployed environment is rolled back too
            }
        })
    }
    parallel(branches)
}

def markDeployed(Map run, String e) {
    if (!run.deployed.contains(e)) {
        run.deployed << e
    }
}

def smoke(Map run, String e, Map d) {
    if (!d.hasSmoke) {
        echo("dify-ci: no smoke suites configured for ${e}")
        return
    }
    onAgent(run) {
        Map result = difySmoke(env: e, config: run.o.config, unstable: run.p.smokeUnstable == true, reportDir: ".dify-ci/reports/smoke-${e}")
        run.stopped = result.exitCode != 0
    }
}

def rollBack(Map run, String e) {
    if (run.deployed.contains(e) && !run.rolledBack.contains(e)) {
        run.rolledBack << e
        stage("Roll back ${e}") {
            onAgent(run) {
                difyRollback(env: e, config: run.o.config, approvedBy: run.approvers[e])
            }
        }
    }
}

def manualRollback(Map run) {
    String e = run.rollback
    Map d = run.ctx.environmentDetails[e]
    if (d == null) {
        error("DIFY_ROLLBACK_ENV: no environment '${e}' in dify-ci.yml (known: ${run.ctx.environments.join(', ')})")
    }
    String approver = gateFor(run, d) == 'go' ? null : approve(run, e, d, "Roll back ${e}", null)
    lock(resource: "dify-${e}", inversePrecedence: true) {
        stage("Roll back ${e}") {
            onAgent(run) {
                difyRollback(env: e, config: run.o.config, approvedBy: approver, to: params.DIFY_ROLLBACK_TO ?: null, app: params.DIFY_ROLLBACK_APP ?: null)
            }
        }
    }
}

// The `post` of this pipeline: failure -> roll back what this build deployed (newest first), then notify.
def finish(Map run, String outcome, boolean pr) {
    if (outcome == 'aborted') {
        echo('dify-ci: build aborted; nothing rolled back, no notification')
        return
    }
    if (outcome == 'failure') {
        currentBuild.result = 'FAILURE'
        for (int i = run.deployed.size() - 1; i >= 0; i--) {
            String e = run.deployed[i]
            if (run.rolledBack.contains(e)) {
                continue
            }
            try {
                lock(resource: "dify-${e}", inversePrecedence: true) {
                    rollBack(run, e)
                }
            } catch (err) {
                echo("dify-ci: rolling back ${e} failed: ${err.message}")
            }
        }
    }
    if (run.ctx == null || (pr && outcome == 'success')) {
        return // no readable configuration to notify with; successful PR builds stay quiet
    }
    String status = outcome == 'failure' ? 'failure' : (currentBuild.currentResult == 'UNSTABLE' ? 'unstable' : 'success')
    stage('Notify') {
        try {
            onAgent(run) {
                for (int i = 0; i < run.stashes.size(); i++) {
                    unstash(run.stashes[i])
                }
                difyNotify(status: status, config: run.o.config, results: '.dify-ci/results') // where difyRun puts them
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
def onAgent(Map run, Closure body) {
    node(run.label ?: '') { // '' = any agent
        inWorkspace(run, body)
    }
}

def inWorkspace(Map run, Closure body) {
    Map scmVars
    if (run.tag) {
        String ref = "refs/tags/${run.tag}".toString() // plain Strings: nested GStrings are not always coerced
        Map remote = [url: scm.userRemoteConfigs[0].url, credentialsId: scm.userRemoteConfigs[0].credentialsId, refspec: "+${ref}:${ref}".toString()]
        scmVars = checkout([$class: 'GitSCM', branches: [[name: ref]], userRemoteConfigs: [remote]])
    } else {
        scmVars = checkout(scm)
    }
    if (run.branch == null) {
        run.branch = env.BRANCH_NAME ?: ((scmVars?.GIT_BRANCH ?: '') as String).replaceFirst('^origin/', '')
    }
    try {
        withNodejs(run, body)
    } finally {
        String stashName = "dify-ci-${run.stashes.size() + 1}"
        run.stashes << stashName // claimed before any step runs, so parallel shards never share a name
        archiveArtifacts(artifacts: '.dify-ci/**', allowEmptyArchive: true)
        stash(name: stashName, includes: '.dify-ci/results/**,.dify-ci/reports/**', allowEmpty: true)
    }
}

def withNodejs(Map run, Closure body) {
    if (!run.nodejsTool) {
        return body()
    }
    String home = tool(name: run.nodejsTool, type: 'jenkins.plugins.nodejs.tools.NodeJSInstallation')
    withEnv([isUnix() ? "PATH+NODEJS=${home}/bin" : "PATH+NODEJS=${home}"]) {
        body()
    }
}

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

// Options given to difyPipeline(...) win over pipeline: in dify-ci.yml.
Map settings(Map fromConfig, Map o) {
    Map p = [:] + fromConfig
    List keys = ['environments', 'approvalPolicy', 'everyNth', 'mainBranch', 'nodejsTool', 'agentLabel', 'shards', 'smokeUnstable']
    for (int i = 0; i < keys.size(); i++) {
        if (o.containsKey(keys[i])) {
            p[keys[i]] = o[keys[i]]
        }
    }
    return p
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
