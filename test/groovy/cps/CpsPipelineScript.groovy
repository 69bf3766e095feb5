import com.cloudbees.groovy.cps.Continuable
import com.cloudbees.groovy.cps.NonCPS
import com.cloudbees.groovy.cps.SerializableScript
import harness.PipelineHarness
import org.codehaus.groovy.runtime.InvokerHelper

/**
 * The base class of every var (and entry script) the CPS engine runs, compiled at run time with Jenkins'
 * CpsTransformer — the role Jenkins' CpsScript plays. A step suspends the program (that is where it is saved); a block
 * step suspends on enter and on exit and runs its body here, as CPS code; a describable symbol is evaluated inline;
 * another var's `call` runs as CPS code too. Not compiled by groovyc: test/groovy/src-cps/harness/cps/CpsEngine.
 */
abstract class CpsPipelineScript extends SerializableScript {
    @NonCPS
    Object invokeMethod(String name, Object args) {
        Object[] a = args instanceof Object[] ? (Object[]) args : ([args] as Object[])
        PipelineHarness h = (PipelineHarness) getBinding().getVariable('__harness')
        if (h.isStep(name)) {
            return Continuable.suspend([op: 'step', name: name, args: new ArrayList(Arrays.asList(a))])
        }
        if (PipelineHarness.isBlock(name)) {
            return block(name, a)
        }
        if (name == 'parallel') {
            return parallel((Map) a[0])
        }
        if (PipelineHarness.isSymbol(name)) {
            return h.symbol(name, a)
        }
        Object v = getBinding().hasVariable(name) ? getBinding().getVariable(name) : null
        if (v instanceof Script) {
            return InvokerHelper.invokeMethod(v, 'call', a) // its CPS `call` continues in the interpreter
        }
        return super.invokeMethod(name, args)
    }

    def block(String name, Object[] a) {
        List args = []
        for (int i = 0; i < a.length - 1; i++) {
            args.add(a[i])
        }
        Map frame = (Map) Continuable.suspend([op: 'enter', name: name, args: args])
        try {
            return a[a.length - 1].call()
        } finally {
            Continuable.suspend([op: 'exit', frame: frame])
        }
    }

    // Branches one after another, like the plain engine (Jenkins interleaves them between steps); failFast stops
    // the rest after a failure.
    def parallel(Map branches) {
        List names = []
        List keys = new ArrayList(branches.keySet())
        for (int i = 0; i < keys.size(); i++) {
            if (keys[i] != 'failFast') {
                names.add(keys[i])
            }
        }
        boolean failFast = branches.failFast == true
        Continuable.suspend([op: 'parallelStart', names: names, failFast: failFast])
        Throwable first = null
        for (int i = 0; i < names.size(); i++) {
            String branch = names[i]
            if (first != null && failFast) {
                Continuable.suspend([op: 'parallelAborted', name: branch])
                continue
            }
            Map frame = (Map) Continuable.suspend([op: 'enter', name: 'parallel', args: [branch]])
            try {
                branches[branch].call()
            } catch (Throwable t) {
                if (first == null) {
                    first = t
                }
            } finally {
                Continuable.suspend([op: 'exit', frame: frame])
            }
        }
        if (first != null) {
            throw first
        }
        return null
    }
}
