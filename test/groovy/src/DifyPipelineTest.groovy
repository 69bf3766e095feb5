import static harness.PipelineHarness.*
import static org.junit.Assert.*

import harness.FakeBuild
import harness.PipelineError
import harness.PipelineHarness
import harness.Vars
import org.jenkinsci.plugins.workflow.steps.FlowInterruptedException
import org.junit.Before
import org.junit.Test

class DifyPipelineTest {
    PipelineHarness h
    Map pipelineSettings = [:]

    @Before
    void setUp() {
        h = Vars.harness()
        h.env.BRANCH_NAME = 'main'
        h.contextFor = { String step, String envName ->
            Map c = defaultContext(step, envName)
            c.pipeline = c.pipeline + pipelineSettings
            c
        }
    }

    private Throwable runPipeline(Map overrides = [:]) {
        try {
            h.call('difyPipeline', overrides)
        } catch (Throwable t) {
            return t
        }
        return null
    }

    /** "command env" for every runner invocation except context, in order. */
    private List<String> commandLine() {
        return h.commands().collect { Map r -> ([r.command, r.params.env ?: r.params.status] - null).join(' ') }
    }

    private static boolean inNode(Map call) {
        return call.stack.any { it.startsWith('node:') }
    }

    private Closure failing(String command, String envName, int exitCode = 1) {
        return { Map run ->
            run.command == command && run.params.env == envName
                ? [exitCode: exitCode, result: okResult(command, [status: 'failed', summary: "${command} failed in ${envName}".toString()])]
                : [exitCode: 0, result: okResult(run.command)]
        }
    }

    @Test
    void theCallReturnsNothing() {
        assertNull(h.call('difyPipeline'))
    }

    @Test
    void stagesRunInOrderThroughBothEnvironments() {
        assertNull(runPipeline())
        assertEquals(['Validate', 'Plan', 'Deploy staging', 'Smoke staging', 'Approve production', 'Deploy production', 'Smoke production', 'Notify'], h.stages())
        assertEquals(['validate', 'plan staging', 'plan production', 'deploy staging', 'smoke staging', 'deploy production', 'smoke production', 'notify success'], commandLine())
        assertNull(h.currentBuild.result)
    }

    @Test
    void pullRequestsStopAfterPlanWithTheMarkdownPlanAndTrustedConfig() {
        h.env.CHANGE_ID = '42'
        h.env.BRANCH_NAME = 'PR-42'
        h.params.DIFY_ROLLBACK_ENV = 'production' // manual entry points are ignored on PRs
        h.runner = { Map run ->
            [exitCode: 0, result: okResult(run.command, run.command == 'plan' ? [data: [markdown: "### plan for ${run.params.env}".toString()]] : [:])]
        }
        assertNull(runPipeline())
        assertEquals(['Validate', 'Plan'], h.stages())
        assertEquals(['validate', 'plan staging', 'plan production'], commandLine())
        assertEquals('### plan for staging', h.files['/ws/.dify-ci/reports/plan-staging.md'])
        assertEquals('### plan for production', h.files['/ws/.dify-ci/reports/plan-production.md'])
        assertTrue('written before the workspace is archived', h.calls.findLastIndexOf { it.name == 'writeFile' && it.args[0].file.endsWith('.md') } < h.calls.findIndexOf { it.name == 'archiveArtifacts' && it.args[0].artifacts == '.dify-ci/**' })
        assertEquals([['dify-ci.yml']], h.named('readTrusted')*.args)
        assertTrue('the trusted-config check comes before any plan', h.names().indexOf('readTrusted') < h.calls.findIndexOf { it.name == 'sh' && it.args[0].label.toString().startsWith('dify-ci plan') })
        assertEquals([], h.named('input'))
        assertEquals([], h.named('lock'))
    }

    @Test
    void approvalUsesTheSubmitterWaitsOutsideAnyNodeAndPassesTheApprover() {
        h.inputAnswer = 'bob'
        runPipeline()
        List inputs = h.named('input')
        assertEquals(1, inputs.size())
        Map input = inputs[0].args[0]
        assertEquals('release-managers,bob', input.submitter)
        assertEquals('approver', input.submitterParameter)
        assertEquals('Deploy to production?', input.message)
        assertFalse('input must not hold an executor', inNode(inputs[0]))
        assertTrue(inputs[0].stack.contains('timeout'))
        assertEquals([time: 30, unit: 'MINUTES'], h.named('timeout')[0].args[0])
        Map prodDeploy = h.commands().find { it.command == 'deploy' && it.params.env == 'production' }
        assertEquals('bob', prodDeploy.params.approvedBy)
        assertNull(h.commands().find { it.command == 'deploy' && it.params.env == 'staging' }.params.approvedBy)
    }

    @Test
    void theApproverIsTakenFromAMapAnswerToo() {
        h.inputAnswer = [approver: 'carol', comment: 'ok']
        runPipeline()
        assertEquals('carol', h.commands().find { it.command == 'deploy' && it.params.env == 'production' }.params.approvedBy)
    }

    @Test
    void deploysAndSmokeRunInsideTheEnvironmentLockAfterItsMilestone() {
        runPipeline()
        assertEquals([[resource: 'dify-staging', inversePrecedence: true], [resource: 'dify-production', inversePrecedence: true]], h.named('lock')*.args*.getAt(0))
        for (String e : ['staging', 'production']) {
            for (String cmd : ['deploy', 'smoke']) {
                Map run = h.commands().find { it.command == cmd && it.params.env == e }
                assertTrue("${cmd} ${e} inside lock", run.stack.contains("lock:dify-${e}".toString()))
                assertTrue("${cmd} ${e} on an agent", run.stack.any { it.startsWith('node:') })
            }
            int lockedMilestone = h.calls.findIndexOf { it.name == 'milestone' && it.stack.contains("lock:dify-${e}".toString()) }
            int deploy = h.calls.findIndexOf { it.name == 'sh' && it.args[0].label.toString() == "dify-ci deploy ${e}".toString() }
            assertTrue("milestone inside the ${e} lock before the deploy", lockedMilestone >= 0 && lockedMilestone < deploy)
        }
        List ordinals = h.named('milestone').collect { it.args[0].ordinal }
        assertEquals('increasing: approval (before/after) and inside each lock', [3, 11, 12, 13], ordinals)
        assertFalse(h.named('milestone').find { it.args[0].ordinal == 11 }.stack.any { it.startsWith('lock:') })
    }

    @Test
    void aFailedProductionSmokeRollsBackEverythingThisBuildDeployedThenNotifiesFailure() {
        h.runner = failing('smoke', 'production')
        Throwable t = runPipeline()
        assertTrue(t instanceof PipelineError)
        assertEquals('dify-ci smoke: smoke failed in production [operation]', t.message)
        assertEquals(['validate', 'plan staging', 'plan production', 'deploy staging', 'smoke staging', 'deploy production', 'smoke production',
                      'rollback production', 'rollback staging', 'notify failure'], commandLine())
        Map prod = h.commands().find { it.command == 'rollback' && it.params.env == 'production' }
        Map staging = h.commands().find { it.command == 'rollback' && it.params.env == 'staging' }
        assertTrue('production is rolled back before its lock is released', prod.stack.contains('lock:dify-production'))
        assertTrue(staging.stack.contains('lock:dify-staging'))
        assertEquals('the protected environment\'s rollback carries its approver', 'alice', prod.params.approvedBy)
        assertNull(staging.params.approvedBy)
        assertEquals([status: 'failure', config: null, results: '.dify-ci/results'], h.commands()[-1].params)
        assertEquals('FAILURE', h.currentBuild.result)
        assertEquals(['Roll back production', 'Roll back staging', 'Notify'], h.stages()[-3..-1])
    }

    @Test
    void aFailedDeployIsNotRolledBackButEarlierEnvironmentsAre() {
        h.runner = failing('deploy', 'production')
        assertNotNull(runPipeline())
        assertEquals(['rollback staging', 'notify failure'], commandLine()[-2..-1])
        assertFalse(commandLine().contains('rollback production'))
    }

    @Test
    void aFailureBeforeAnyDeployOnlyNotifies() {
        h.runner = failing('validate', null)
        assertNotNull(runPipeline())
        assertEquals(['validate', 'notify failure'], commandLine())
    }

    @Test
    void notifyingSeesTheReportsOfEveryAgent() {
        runPipeline()
        List stashes = h.named('stash').collect { it.args[0].name }
        assertEquals(stashes.size() - 1, h.named('unstash').size()) // all but the notify agent's own
        assertTrue(h.named('unstash').every { inNode(it) })
        assertEquals(stashes.unique(false), stashes)
        assertTrue(h.named('archiveArtifacts').findAll { it.args[0].artifacts == '.dify-ci/**' }.size() == stashes.size())
    }

    @Test
    void unstableSmokeStopsPromotionWithoutRollback() {
        pipelineSettings.smokeUnstable = true
        h.runner = failing('smoke', 'staging')
        assertNull(runPipeline())
        assertEquals(['validate', 'plan staging', 'plan production', 'deploy staging', 'smoke staging', 'notify unstable'], commandLine())
        assertEquals('UNSTABLE', h.currentBuild.currentResult)
        assertEquals([], h.named('input'))
    }

    @Test
    void arejectedOrTimedOutApprovalAbortsWithoutRollbackAndLetsTheNotifyRulesDecide() {
        h.inputAnswer = { Map m -> throw new FlowInterruptedException('rejected by bob') }
        Throwable t = runPipeline()
        assertTrue(t instanceof FlowInterruptedException)
        assertEquals(['validate', 'plan staging', 'plan production', 'deploy staging', 'smoke staging', 'notify aborted'], commandLine())
        assertNull(h.currentBuild.result)
    }

    @Test
    void theNotificationKnowsThePreviousResultForFixedRules() {
        h.currentBuild.previousBuild = new FakeBuild(result: 'FAILURE')
        assertNull(runPipeline())
        assertEquals([status: 'success', config: null, results: '.dify-ci/results', previousStatus: 'failure'], h.commands()[-1].params)
    }

    @Test
    void mainBranchPolicyKeepsOtherBranchesOutOfProduction() {
        pipelineSettings.approvalPolicy = 'main-branch'
        h.env.BRANCH_NAME = 'feature/x'
        assertNull(runPipeline())
        assertEquals(['validate', 'plan staging', 'plan production', 'deploy staging', 'smoke staging', 'notify success'], commandLine())
        assertEquals([], h.named('input'))
        h.calls.clear(); h.runs.clear()
        h.env.BRANCH_NAME = 'main'
        runPipeline()
        assertEquals(1, h.named('input').size())
    }

    @Test
    void theBranchComesFromCheckoutOutsideMultibranch() {
        pipelineSettings.approvalPolicy = 'main-branch'
        h.env.BRANCH_NAME = null // the harness checkout reports origin/main
        runPipeline()
        assertEquals(1, h.named('input').size())
    }

    @Test
    void tagsPolicyAsksOnlyForTagBuilds() {
        pipelineSettings.approvalPolicy = 'tags'
        runPipeline()
        assertEquals([], h.named('input'))
        assertFalse(commandLine().contains('deploy production'))
        h.calls.clear(); h.runs.clear()
        h.env.TAG_NAME = 'v1.4.0'
        runPipeline()
        assertEquals(1, h.named('input').size())
        assertTrue(commandLine().contains('deploy production'))
    }

    @Test
    void everyNthPolicyAsksOnEveryNthBuild() {
        pipelineSettings.approvalPolicy = 'every-nth'
        pipelineSettings.everyNth = 7
        runPipeline() // build 7
        assertEquals(1, h.named('input').size())
        h.calls.clear(); h.runs.clear()
        h.env.BUILD_NUMBER = '8'
        runPipeline()
        assertEquals([], h.named('input'))
        assertFalse(commandLine().contains('deploy production'))
    }

    @Test
    void neverPolicyDeploysWithoutAskingOrClaimingAnApprover() {
        h.contextFor = { String step, String envName ->
            Map c = defaultContext(step, envName)
            c.environmentDetails.production.protected = false
            c
        }
        runPipeline([approvalPolicy: 'never'])
        assertEquals([], h.named('input'))
        assertNull(h.commands().find { it.command == 'deploy' && it.params.env == 'production' }.params.approvedBy)
    }

    @Test
    void aProtectedEnvironmentAlwaysGetsAnApproverBecauseTheRunnerRequiresOne() {
        runPipeline([approvalPolicy: 'never'])
        assertEquals(1, h.named('input').size())
        assertEquals('alice', h.commands().find { it.command == 'deploy' && it.params.env == 'production' }.params.approvedBy)
    }

    @Test
    void smokeReportsAreKeptApartPerEnvironment() {
        runPipeline()
        assertEquals(['.dify-ci/reports/smoke-staging', '.dify-ci/reports/smoke-production'], h.commands().findAll { it.command == 'smoke' }*.params*.reportDir)
    }

    @Test
    void shardsFanOutOverParallelBranchesInsideTheLock() {
        pipelineSettings.shards = 3
        runPipeline()
        List deploys = h.commands().findAll { it.command == 'deploy' && it.params.env == 'production' }
        assertEquals(['1/3', '2/3', '3/3'], deploys*.params*.shard)
        assertEquals(['shard 1/3', 'shard 2/3', 'shard 3/3'], h.named('parallel')[1].args[0])
        for (Map d : deploys) {
            assertTrue(d.stack.contains('lock:dify-production'))
            assertTrue(d.stack.contains("parallel:shard ${d.params.shard}".toString()))
            assertTrue(d.stack.any { it.startsWith('node:') })
        }
        assertEquals('smoke runs once after the fan-out', 1, h.commands().count { it.command == 'smoke' && it.params.env == 'production' })
        assertEquals(['.dify-ci/results/deploy-production-1_3.json', '.dify-ci/results/deploy-production-2_3.json', '.dify-ci/results/deploy-production-3_3.json'],
            deploys*.env*.DIFY_CI_RESULT_FILE)
    }

    @Test
    void aFailedShardStillRollsBackTheEnvironmentWhenOthersDeployed() {
        pipelineSettings.shards = 2
        h.runner = { Map run ->
            run.command == 'deploy' && run.params.shard == '2/2' && run.params.env == 'production'
                ? [exitCode: 1, result: okResult('deploy', [status: 'failed', summary: 'tenant acme failed'])]
                : [exitCode: 0, result: okResult(run.command)]
        }
        assertNotNull(runPipeline())
        assertEquals(['rollback production', 'rollback staging', 'notify failure'], commandLine()[-3..-1])
    }

    @Test
    void manualRollbackEntryPointRollsBackOneEnvironmentToAVersion() {
        h.params.DIFY_ROLLBACK_ENV = 'production'
        h.params.DIFY_ROLLBACK_TO = 'v41'
        assertNull(runPipeline())
        assertEquals(['Approve production', 'Roll back production', 'Notify'], h.stages())
        assertEquals([message: 'Roll back production?', ok: 'Roll back production', submitterParameter: 'approver', submitter: 'release-managers,bob'], h.named('input')[0].args[0])
        assertEquals(['rollback production', 'notify success'], commandLine())
        Map rb = h.commands()[0]
        assertEquals('v41', rb.params.to)
        assertEquals('alice', rb.params.approvedBy)
        assertTrue(rb.stack.contains('lock:dify-production'))
        assertFalse(inNode(h.named('input')[0]))
    }

    @Test
    void manualRollbackOfAnUnknownEnvironmentFailsClearly() {
        h.params.DIFY_ROLLBACK_ENV = 'prod'
        Throwable t = runPipeline()
        assertEquals("DIFY_ROLLBACK_ENV: no environment 'prod' in dify-ci.yml (known: staging, production)", t.message)
        assertEquals(['notify failure'], commandLine())
    }

    @Test
    void deployThisTagChecksTheTagOutOnEveryAgent() {
        h.params.DIFY_DEPLOY_TAG = 'v1.2.0'
        pipelineSettings.approvalPolicy = 'tags'
        runPipeline()
        List checkouts = h.named('checkout')*.args*.getAt(0)
        assertTrue(checkouts.size() > 1)
        for (Map c : checkouts) {
            assertEquals([[name: 'refs/tags/v1.2.0']], c.branches)
            assertEquals('+refs/tags/v1.2.0:refs/tags/v1.2.0', c.userRemoteConfigs[0].refspec)
            assertEquals('https://git.example.com/acme/bots.git', c.userRemoteConfigs[0].url)
        }
        assertEquals('a tag deploy counts as a tag build', 1, h.named('input').size())
    }

    @Test
    void aMalformedTagIsRejectedBeforeAnyCheckout() {
        h.params.DIFY_DEPLOY_TAG = '--upload-pack=evil'
        Throwable t = runPipeline()
        assertEquals("DIFY_DEPLOY_TAG '--upload-pack=evil' is not a tag name", t.message)
        assertEquals([], h.named('checkout'))
    }

    @Test
    void theNodejsToolIsPutOnPathInEveryAgent() {
        pipelineSettings.nodejsTool = 'node-20'
        runPipeline([agentLabel: 'linux'])
        assertTrue(h.named('node').every { it.args == ['linux'] })
        List tools = h.named('tool')
        assertEquals('every agent, the first one once the configuration was read', h.named('node').size(), tools.size())
        assertTrue(h.calls.findIndexOf { it.name == 'tool' } > h.calls.findIndexOf { it.name == 'sh' && it.args[0].label.toString() == 'dify-ci context pipeline' })
        assertTrue(tools.every { it.args[0] == [name: 'node-20', type: 'jenkins.plugins.nodejs.tools.NodeJSInstallation'] })
        assertTrue(h.commands().every { it.env['PATH+NODEJS'] == '/tools/node20/bin' })
    }

    @Test
    void optionsOverrideTheConfigurationAndUnknownOptionsAreRejected() {
        runPipeline([environments: ['staging'], config: 'ci/dify-ci.yml'])
        assertEquals(['validate', 'plan staging', 'deploy staging', 'smoke staging', 'notify success'], commandLine())
        assertTrue(h.runs.every { it.params.config == 'ci/dify-ci.yml' })
        h.calls.clear(); h.runs.clear()
        Throwable t = runPipeline([aprovalPolicy: 'never'])
        assertTrue(t.message, t.message.startsWith("difyPipeline: unknown option 'aprovalPolicy'"))
        assertEquals([], h.runs)
    }

    @Test
    void theJobGetsTheManualEntryPointParametersAndOptionalPolling() {
        runPipeline([pollSCM: 'H/5 * * * *'])
        List props = h.named('properties')[0].args[0]
        assertEquals(['DIFY_DEPLOY_TAG', 'DIFY_ROLLBACK_ENV', 'DIFY_ROLLBACK_TO', 'DIFY_ROLLBACK_APP'], props[0].args[0]*.name)
        assertEquals('pipelineTriggers', props[1].$symbol)
        h.calls.clear()
        runPipeline([jobProperties: false])
        assertEquals([], h.named('properties'))
    }

    @Test
    void everyShellScriptInTheWholePipelineIsAConstant() {
        h.runner = failing('smoke', 'production')
        runPipeline()
        List shells = h.calls.findAll { it.name in ['sh', 'bat'] }
        assertTrue(shells.size() > 10)
        assertTrue(shells.every { it.args[0].script in CONSTANT_SCRIPTS })
    }

    @Test
    void windowsAgentsRunThePipelineWithBat() {
        h.unix = false
        pipelineSettings.nodejsTool = 'node-20'
        assertNull(runPipeline())
        assertEquals([], h.named('sh'))
        assertTrue(h.commands().every { it.env['PATH+NODEJS'] == '/tools/node20' })
    }
}
