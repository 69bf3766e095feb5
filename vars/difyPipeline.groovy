import org.jenkinsci.plugins.workflow.steps.FlowInterruptedException

// difyPipeline: the org-wide standard pipeline in one call, driven by the tenant repo's dify-ci.yml.
//   Validate -> Plan (pull requests stop here, offline) -> for each environment: [Approve] -> Deploy -> Smoke
//   on failure: roll back what this build deployed (its own targets only), then notify; aborted: notify only;
//   on success: notify. Pull requests bind no credential and notify nobody.
// Scripted, not declarative: the environments come from dify-ci.yml at run time (declarative stages are fixed
// when the Jenkinsfile is compiled), `input` waits outside any node, and lock + milestone wrap each deploy.
// The stages live in difyPipelineInternal. Options and parameters: vars/difyPipeline.txt, jenkins-shared-library.md.
def call(Map options = [:]) {
    def internal = difyPipelineInternal
    Map o = [:] + options
    if (o.jobProperties != false) {
        properties(internal.jobProperties(o))
    }
    boolean pr = env.CHANGE_ID ? true : false // an untrusted build: readTrusted config, no credential, no notify
    Map state = [o: o, pr: pr, tag: pr ? '' : (params.DIFY_DEPLOY_TAG ?: ''), rollback: pr ? '' : (params.DIFY_ROLLBACK_ENV ?: ''),
                 label: o.agentLabel, nodejsTool: o.nodejsTool, deployed: [], rolledBack: [], approvers: [:], stashes: [], branch: null, commit: null]
    String outcome = 'success'
    Throwable caught = null
    try {
        if (state.tag && !(state.tag ==~ /[A-Za-z0-9][A-Za-z0-9._\/-]*/)) {
            error("DIFY_DEPLOY_TAG '${state.tag}' is not a tag name")
        }
        if (state.rollback) {
            // Passed before anything can wait: a newer build reaching a milestone must not cancel a running rollback
            // (pipeline-milestone-step cancels older builds below its ordinal; nothing is above this one).
            milestone(ordinal: 2147483647, label: "manual rollback of ${state.rollback}")
        }
        String first = state.label
        internal.onAgent(state) {
            readContext(state)
            if (state.label == first) {
                validateAndPlan(state) // this agent qualifies for pipeline.agentLabel: no second checkout
            }
        }
        if (state.label != first && !state.rollback) {
            internal.onAgent(state) {
                validateAndPlan(state) // on pipeline.agentLabel: plan binds credentials only where the file says
            }
        }
        if (state.rollback) {
            internal.manualRollback(state)
        } else if (pr) {
            echo('dify-ci: pull request build, stopping after Plan (offline plans archived for the PR comment)')
        } else {
            internal.deliver(state)
        }
    } catch (FlowInterruptedException err) {
        outcome = 'aborted' // input rejected or timed out, superseded by a newer build (milestone), or Abort
        caught = err
    } catch (err) {
        outcome = 'failure'
        caught = err
    }
    internal.finish(state, outcome)
    if (caught != null) {
        throw caught
    }
}

// Right after the first checkout: the runner resolves the options over pipeline: of dify-ci.yml, checks them, and
// decides each environment's gate and lock from this build's facts.
def readContext(Map state) {
    Map extra = [overrides: difyPipelineInternal.runnerOptions(state.o), branch: state.branch, tag: state.tag ?: (env.TAG_NAME ?: null)]
    state.ctx = difyRun.context('pipeline', null, state.o.config, extra)
    echo("dify-ci: ${state.ctx.version}") // which library and runner this build ran
    state.p = state.ctx.pipeline
    state.label = state.p.agentLabel
}

def validateAndPlan(Map state) {
    if (state.rollback) {
        return // the manual rollback entry point skips the checks
    }
    if (state.p.nodejsTool && state.p.nodejsTool != state.nodejsTool) {
        state.nodejsTool = state.p.nodejsTool // known only now that the configuration was read
        difyPipelineInternal.withNodejs(state) {
            checkAndPlan(state)
        }
    } else {
        checkAndPlan(state)
    }
}

def checkAndPlan(Map state) {
    stage('Validate') {
        difyValidate(config: state.o.config)
    }
    stage('Plan') {
        if (state.pr) {
            echo('dify-ci: pull request build: offline plans (the DSL against the target branch; no credential bound, Dify not contacted)')
        }
        for (int i = 0; i < state.p.environments.size(); i++) {
            String e = state.p.environments[i]
            Map args = [env: e, config: state.o.config]
            if (state.pr) {
                args.offline = true
            }
            Map plan = difyPlan(args)
            if (plan.data?.markdown) {
                String file = ".dify-ci/reports/plan-${e}.md"
                writeFile(file: file, text: plan.data.markdown, encoding: 'UTF-8') // for the PR comment
                archiveArtifacts(artifacts: file, allowEmptyArchive: true)
            }
        }
    }
}
