package harness.cps

import com.cloudbees.groovy.cps.Continuable
import com.cloudbees.groovy.cps.CpsTransformer
import com.cloudbees.groovy.cps.Outcome
import groovy.transform.CompileStatic
import harness.FakeBuild
import harness.FakeEnv
import harness.MilestoneBoard
import harness.PipelineHarness
import harness.Vars
import org.codehaus.groovy.control.CompilerConfiguration

/**
 * Runs vars in Jenkins' own Groovy-CPS interpreter (../shared/jenkins-cps, workflow-cps-plugin's `lib/`): each var
 * CPS-transformed as on a controller, its steps answered by the same PipelineHarness as the plain engine, and the
 * whole program serialized at every step, as Jenkins writes program.dat whenever a step suspends it. A local that
 * cannot be serialized (a regex Matcher, an iterator, a lazy map) kept across a step is reported as a problem.
 *
 * Limits (../shared/jenkins-cps/README.md): closures passed to Groovy's collection methods run as plain Groovy (the
 * generated CPS versions are stubs), no sandbox interceptor, plain Java serialization rather than JBoss River.
 */
class CpsEngine {
    private static CompilerConfiguration config
    private static GroovyClassLoader baseLoader
    private static final Map<String, Class> CLASSES = [:]
    /** Over every CPS run of this JVM: scenarios, save points, milliseconds spent saving. */
    static int runs = 0
    static long savePoints = 0
    static long saveMillis = 0
    static long savedBytes = 0

    private static synchronized void init() {
        if (config != null) {
            return
        }
        config = new CompilerConfiguration()
        config.addCompilationCustomizers(new CpsTransformer())
        baseLoader = new GroovyClassLoader(CpsEngine.classLoader, config)
        Class base = baseLoader.parseClass(new File(Vars.root(), 'test/groovy/cps/CpsPipelineScript.groovy'))
        config.scriptBaseClass = base.name
    }

    /** A var compiled by its own class loader with the CPS transformer (cached: the source is the same). */
    Script newVar(String name, Binding binding, String source = null) {
        init()
        String key = source == null ? name : "${name}#${source.hashCode()}".toString()
        Class c
        synchronized (CLASSES) {
            c = CLASSES[key]
            if (c == null) {
                c = new GroovyClassLoader(baseLoader, config).parseClass(source ?: Vars.source(name), "${name}.groovy".toString())
                CLASSES[key] = c
            }
        }
        Script s = (Script) c.newInstance()
        s.binding = binding
        return s
    }

    /** `<var>(args…)` as a Jenkinsfile calls it, run to its end; every suspension is a save point. */
    Object run(PipelineHarness h, String varName, Object[] args) {
        init()
        Binding b = h.var(varName).binding
        List<String> names = []
        for (int i = 0; i < args.length; i++) {
            b.setVariable("__a${i}".toString(), args[i])
            names << "__a${i}".toString()
        }
        Script entry = newVar("Jenkinsfile_${varName}_${args.length}", b, "return ${varName}(${names.join(', ')})")
        Continuable c = new Continuable(entry)
        Outcome o = c.run0(new Outcome(null, null))
        int step = 0
        Sink sink = new Sink()
        ProgramStream out = new ProgramStream(sink)
        while (c.isResumable()) {
            step++
            Map request = (Map) o.normal
            if (!save(h, c, step, request, out, sink)) {
                out = new ProgramStream(sink) // a failed write leaves a stream in an undefined state
            }
            Object value = null
            Throwable thrown = null
            try {
                value = perform(h, request)
            } catch (Throwable t) {
                thrown = t
            }
            o = c.run0(new Outcome(value, thrown))
        }
        runs++
        if (o.abnormal != null) {
            throw o.abnormal
        }
        return o.normal
    }

    private static Object perform(PipelineHarness h, Map r) {
        switch (r.op) {
            case 'step': return h.step(r.name as String, (r.args as List).toArray())
            case 'enter': return h.enter(r.name as String, r.args as List)
            case 'exit': h.exit(r.frame as Map); return null
            case 'parallelStart': h.parallelStart(r.names as List, r.failFast as boolean); return null
            case 'parallelAborted': h.parallelAborted(r.name as String); return null
        }
        throw new IllegalStateException("unknown request ${r}")
    }

    /** The save point: the whole program, as program.dat; test fixtures are replaced by placeholders. */
    private static boolean save(PipelineHarness h, Continuable c, int step, Map request, ProgramStream out, Sink sink) {
        long start = System.nanoTime()
        boolean ok = false
        try {
            out.reset() // every save point writes the whole program again, as program.dat is rewritten
            long before = sink.count
            out.writeObject(c)
            out.flush()
            savedBytes += sink.count - before
            ok = true
        } catch (NotSerializableException e) {
            h.serializationProblems << "save point ${step} (before ${request.op} ${request.name ?: ''}): not serializable: ${e.message}".toString()
        } catch (IOException e) {
            h.serializationProblems << "save point ${step}: ${e}".toString()
        }
        h.savePoints++
        savePoints++
        saveMillis += (System.nanoTime() - start).intdiv(1000000)
        return ok
    }
}

/** Counts the bytes of a save point and keeps none. */
@CompileStatic
class Sink extends OutputStream {
    long count = 0

    @Override
    void write(int b) {
        count++
    }

    @Override
    void write(byte[] b, int off, int len) {
        count += len
    }
}

/** Swaps the fixtures (harness, bindings, scripts, fake env) out of the stream; the program is everything else. */
@CompileStatic
class ProgramStream extends ObjectOutputStream {
    ProgramStream(OutputStream out) {
        super(out)
        enableReplaceObject(true)
    }

    @Override
    protected Object replaceObject(Object obj) {
        if (obj instanceof PipelineHarness || obj instanceof Binding || obj instanceof Script || obj instanceof FakeEnv || obj instanceof MilestoneBoard
            || obj instanceof FakeBuild) {
            return "<fixture ${obj.getClass().name}>".toString()
        }
        return obj
    }
}
