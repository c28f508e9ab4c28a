package dev.cleave.nn;

import dev.cleave.modular.Enmeshment;

/**
 * The {@code java} backend: every op computed by {@link Reference} in double precision, then
 * stored as float. Plain, readable and slow; it runs anywhere and is what the native kernels
 * are tested against.
 */
public final class JavaBackend extends Backend {

    private static final Device DEVICE = Device.java();

    @Override
    public Device device() {
        return DEVICE;
    }

    @Override
    public String describe() {
        return "plain Java reference (double precision, 1 thread)";
    }

    @Override
    protected void doLinearForward(Tensor x, Tensor w, Tensor b, Tensor y, boolean relu) {
        y.copyFrom(Reference.linearForward(x.toDoubleArray(), w.toDoubleArray(), b == null ? null : b.toDoubleArray(),
                x.rows(), x.cols(), w.rows(), relu));
    }

    @Override
    protected void doLinearBackward(Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx, Tensor dw, Tensor db,
            boolean relu) {
        Reference.LinearGrads g = Reference.linearBackward(x.toDoubleArray(), w.toDoubleArray(),
                y == null ? null : y.toDoubleArray(), dy.toDoubleArray(), x.rows(), x.cols(), w.rows(), relu, dx != null);
        dy.copyFrom(g.dyMasked());
        dw.copyFrom(g.dw());
        if (db != null) {
            db.copyFrom(g.db());
        }
        if (dx != null) {
            dx.copyFrom(g.dx());
        }
    }

    @Override
    protected XentResult doSoftmaxXent(Tensor logits, IntTensor labels, Tensor dlogits, float gradScale) {
        Reference.Xent r = Reference.softmaxXent(logits.toDoubleArray(), labels.toArray(logits.rows()),
                logits.rows(), logits.cols(), gradScale);
        if (dlogits != null) {
            dlogits.copyFrom(r.dlogits());
        }
        return new XentResult(r.lossSum(), r.correct());
    }

    @Override
    protected void doDropoutForward(Tensor x, Tensor mask, float p, long seed, long stream) {
        double[] m = Reference.dropoutMask(x.size(), p, seed, stream);
        mask.copyFrom(m);
        for (int i = 0; i < m.length; i++) {
            x.buffer().put(i, (float) (x.buffer().get(i) * m[i]));
        }
    }

    @Override
    protected void doDropoutBackward(Tensor dy, Tensor mask) {
        for (int i = 0; i < dy.size(); i++) {
            dy.buffer().put(i, dy.buffer().get(i) * mask.buffer().get(i));
        }
    }

    @Override
    protected double doWeightPenalty(Tensor w, Tensor g, float l1, float l2) {
        double[] wd = w.toDoubleArray();
        double[] pg = Reference.weightPenaltyGrad(wd, l1, l2);
        for (int i = 0; i < pg.length; i++) {
            g.buffer().put(i, (float) (g.buffer().get(i) + pg[i]));
        }
        return Reference.weightPenalty(wd, l1, l2);
    }

    @Override
    protected void doAdamUpdate(Tensor w, Tensor g, Tensor m, Tensor v, Tensor mask, float lr, float beta1,
            float beta2, float eps, long step) {
        double[] wd = w.toDoubleArray(), md = m.toDoubleArray(), vd = v.toDoubleArray();
        Reference.adamUpdate(wd, g.toDoubleArray(), md, vd, mask == null ? null : mask.toDoubleArray(), lr, beta1, beta2,
                eps, step);
        w.copyFrom(wd);
        m.copyFrom(md);
        v.copyFrom(vd);
    }

    // ==== the fused training step: the unfused ops in sequence ====
    @Override
    protected void doLinearDropoutForward(Tensor x, Tensor w, Tensor b, Tensor y, boolean relu, Tensor mask, float p,
            long seed, long stream) {
        doLinearForward(x, w, b, y, relu);
        if (mask != null) {
            doDropoutForward(y, mask, p, seed, stream);
        }
    }

    @Override
    protected void doLinearDropoutBackward(Tensor x, Tensor w, Tensor xMask, Tensor dy, Tensor dx, Tensor dw, Tensor db,
            boolean reluX) {
        doLinearBackward(x, w, null, dy, dx, dw, db, false); // relu false: dy is written back unchanged
        if (dx == null) {
            return;
        }
        if (xMask != null) {
            doDropoutBackward(dx, xMask);
        }
        if (reluX) {
            for (int i = 0; i < dx.size(); i++) {
                if (!(x.buffer().get(i) > 0f)) {
                    dx.buffer().put(i, 0f);
                }
            }
        }
    }

    @Override
    protected void doSoftmaxXentRecord(Tensor logits, IntTensor labels, Tensor dlogits, float gradScale, XentLog log,
            int slot) {
        int batch = logits.rows(), classes = logits.cols();
        double[] z = logits.toDoubleArray();
        int[] y = labels.toArray(batch);
        double loss = 0;
        int correct = 0, badLabel = -1, nonfinite = -1;
        double[] d = new double[batch * classes];
        for (int r = 0; r < batch; r++) {
            double[] row = java.util.Arrays.copyOfRange(z, r * classes, (r + 1) * classes);
            try {
                Reference.Xent x = Reference.softmaxXent(row, new int[] {y[r]}, 1, classes, gradScale);
                loss += x.lossSum();
                correct += x.correct();
                System.arraycopy(x.dlogits(), 0, d, r * classes, classes);
            } catch (IllegalArgumentException e) {
                badLabel = badLabel < 0 ? r : badLabel;
            } catch (ArithmeticException e) {
                nonfinite = nonfinite < 0 ? r : nonfinite;
            }
        }
        if (dlogits != null) {
            dlogits.copyFrom(d);
        }
        org.bytedeco.javacpp.DoublePointer rec = log.hostRecord(slot);
        rec.put(0, loss).put(1, correct).put(2, badLabel).put(3, badLabel < 0 ? 0 : y[badLabel]).put(4, nonfinite);
    }

    @Override
    protected void doAdamUpdateMulti(java.util.List<Tensor> w, java.util.List<Tensor> g, java.util.List<Tensor> m,
            java.util.List<Tensor> v, java.util.List<Tensor> mask, float[] l1, float[] l2, float lr, float beta1,
            float beta2, float eps, long step) {
        for (int t = 0; t < w.size(); t++) {
            double[] gd = g.get(t).toDoubleArray();
            if (l1[t] != 0f || l2[t] != 0f) { // weight_penalty's gradient, rounded to float as it stores it
                double[] pg = Reference.weightPenaltyGrad(w.get(t).toDoubleArray(), l1[t], l2[t]);
                for (int i = 0; i < gd.length; i++) {
                    gd[i] = (float) (gd[i] + pg[i]);
                }
            }
            double[] wd = w.get(t).toDoubleArray(), md = m.get(t).toDoubleArray(), vd = v.get(t).toDoubleArray();
            Reference.adamUpdate(wd, gd, md, vd, mask.get(t) == null ? null : mask.get(t).toDoubleArray(), lr, beta1, beta2,
                    eps, step);
            w.get(t).copyFrom(wd);
            m.get(t).copyFrom(md);
            v.get(t).copyFrom(vd);
        }
    }

    @Override
    protected double doEnmeshment(Tensor w, Enmeshment op, float scale, Tensor grad) {
        double[] g = grad == null ? null : grad.toDoubleArray();
        double c = Enmeshment.reference(w.toDoubleArray(), op.rows(), op.cols(), op.slice(), op.rowLabels(), op.colLabels(), op.k(),
                scale, g);
        if (grad != null) {
            grad.copyFrom(g);
        }
        return c;
    }

    @Override
    protected void doPruneMask(Tensor w, Tensor mask, float sparsity) {
        double[] wd = w.toDoubleArray();
        double[] md = Reference.pruneMask(wd, sparsity);
        for (int i = 0; i < wd.length; i++) {
            if (md[i] == 0.0) {
                wd[i] = 0.0;
            }
        }
        w.copyFrom(wd);
        mask.copyFrom(md);
    }

    // ==== convolutional ops (issue 11): ConvReference in double ====
    private static double[] d(Tensor t) {
        return t == null ? null : t.toDoubleArray();
    }

    @Override
    protected void doConv2dForward(Conv2dShape s, Tensor x, Tensor w, Tensor b, Tensor y, boolean relu) {
        y.copyFrom(ConvReference.conv2dForward(s, d(x), d(w), d(b), relu));
    }

    @Override
    protected void doConv2dBackward(Conv2dShape s, Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx, Tensor dw,
            Tensor db, boolean relu) {
        ConvReference.Conv2dGrads g = ConvReference.conv2dBackward(s, d(x), d(w), d(y), d(dy), relu, dx != null);
        dy.copyFrom(g.dyMasked());
        dw.copyFrom(g.dw());
        if (db != null) {
            db.copyFrom(g.db());
        }
        if (dx != null) {
            dx.copyFrom(g.dx());
        }
    }

    @Override
    protected void doMaxpool2dForward(Pool2dShape s, Tensor x, Tensor y, IntTensor argmax) {
        ConvReference.MaxPool r = ConvReference.maxpool2dForward(s, d(x));
        y.copyFrom(r.y());
        argmax.copyFrom(r.argmax(), 0, r.argmax().length);
    }

    @Override
    protected void doMaxpool2dBackward(Pool2dShape s, Tensor dy, IntTensor argmax, Tensor dx) {
        int[] arg = argmax.toArray(s.batch() * s.outSize());
        int plane = s.height() * s.width();
        for (int i = 0; i < arg.length; i++) {
            if (arg[i] < 0 || arg[i] >= plane) {
                throw new dev.cleave.util.InvalidInputException("maxpool2d_backward: argmax[" + i + "] = " + arg[i]
                        + " is outside the " + s.height() + "x" + s.width() + " plane: pass the argmax of maxpool2d_forward");
            }
        }
        dx.copyFrom(ConvReference.maxpool2dBackward(s, d(dy), arg));
    }

    @Override
    protected void doBatchnorm2dForward(BatchNorm2dShape s, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor y, Tensor saveMean, Tensor saveInvStd, boolean training, float momentum, float eps) {
        ConvReference.BatchNorm r = ConvReference.batchnorm2dForward(s, d(x), d(gamma), d(beta), d(runningMean),
                d(runningVar), training, momentum, eps);
        y.copyFrom(r.y());
        runningMean.copyFrom(r.runningMean());
        runningVar.copyFrom(r.runningVar());
        if (saveMean != null) {
            saveMean.copyFrom(r.mean());
        }
        if (saveInvStd != null) {
            saveInvStd.copyFrom(r.invStd());
        }
    }

    @Override
    protected void doBatchnorm2dBackward(BatchNorm2dShape s, Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
            Tensor dy, Tensor dx, Tensor dgamma, Tensor dbeta, boolean training) {
        ConvReference.BatchNormGrads g = ConvReference.batchnorm2dBackward(s, d(x), d(gamma), d(saveMean), d(saveInvStd),
                d(dy), training);
        dx.copyFrom(g.dx());
        dgamma.copyFrom(g.dgamma());
        dbeta.copyFrom(g.dbeta());
    }
    // ==== end of convolutional ops ====
}
