// The review's actions for users the datasource lets write: Mark reviewed, Record decision,
// Ask a question, Record outcome (for a decision whose follow-up is due). Each opens a small
// form, posts to the datasource's resource API, shows the backend's refusal where it happened
// (the form keeps what was typed), and on success asks the dashboard to refresh so the new
// annotation appears on every graph.
import { css } from '@emotion/css';
import { GrafanaTheme2, SelectableValue } from '@grafana/data';
import {
  Alert,
  Button,
  Field,
  Input,
  Modal,
  RadioButtonGroup,
  Select,
  Stack,
  TagsInput,
  TextArea,
  useStyles2,
} from '@grafana/ui';
import React, { useState } from 'react';

import {
  EventBody,
  PanelPlace,
  RESULTS,
  decisionEvent,
  outcomeEvent,
  questionEvent,
  refusal,
  reviewEvent,
} from '../actions';
import { AgendaItem } from '../model';

type ActionId = 'review' | 'decision' | 'question' | 'outcome';

interface Props {
  /** Where the panel is; the time of each event is taken when it is posted. */
  place: Omit<PanelPlace, 'now'>;
  /** Decisions the outcome form offers: agenda items about a decision (subject = its id). */
  dueDecisions: AgendaItem[];
  post: (body: EventBody) => Promise<unknown>;
  onDone: (message: string) => void;
  compact: boolean;
}

const DAY = 86400000;

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The result an agenda item suggests for its decision, when its sentence names one. */
export function suggestedResult(item?: AgendaItem): (typeof RESULTS)[number] | undefined {
  if (!item || item.item !== 'outcome_suggested') {
    return undefined;
  }
  // The agenda's sentence ends "…; suggested: not confirmed (2.1 before → 2.35 after)": read only
  // what follows "suggested:", so words in the decision's own text cannot mislead.
  const marker = item.detail.toLowerCase().lastIndexOf('suggested:');
  if (marker < 0) {
    return undefined;
  }
  const text = item.detail
    .toLowerCase()
    .slice(marker + 'suggested:'.length)
    .trim();
  // Longest first, so "not confirmed" is never read as "confirmed".
  const byLength = [...RESULTS].sort((a, b) => b.length - a.length);
  return byLength.find((r) => text.startsWith(r.replace('_', ' ')) || text.startsWith(r));
}

export function Actions({ place, dueDecisions, post, onDone, compact }: Props) {
  const styles = useStyles2(getStyles);
  const [open, setOpen] = useState<ActionId | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  // One form state for all four: a form keeps its text after a refusal.
  const [note, setNote] = useState('');
  const [attendees, setAttendees] = useState<string[]>([]);
  const [text, setText] = useState('');
  const [owner, setOwner] = useState('');
  const [effect, setEffect] = useState('');
  const [followUp, setFollowUp] = useState(() => isoDate(Date.now() + 14 * DAY));
  const [decisionId, setDecisionId] = useState<string | undefined>(dueDecisions[0]?.subject);
  const [result, setResult] = useState<(typeof RESULTS)[number]>(suggestedResult(dueDecisions[0]) ?? 'confirmed');

  const start = (id: ActionId) => {
    setError(undefined);
    setOpen(id);
  };
  const submit = async (build: (at: PanelPlace) => EventBody, done: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await post(build({ ...place, now: Date.now() }));
      setOpen(undefined);
      setNote('');
      setText('');
      setOwner('');
      setEffect('');
      setAttendees([]);
      onDone(done);
    } catch (e) {
      setError(refusal(e));
    } finally {
      setBusy(false);
    }
  };
  const chooseDecision = (id?: string) => {
    setDecisionId(id);
    const suggested = suggestedResult(dueDecisions.find((d) => d.subject === id));
    if (suggested) {
      setResult(suggested);
    }
  };
  const size = compact ? 'sm' : 'md';
  const errorBox = error && (
    <Alert severity="error" title="Not recorded" data-testid="action-error">
      {error}
    </Alert>
  );

  return (
    <div className={styles.bar} role="group" aria-label="Review actions">
      <Button size={size} icon="check" onClick={() => start('review')}>
        Mark reviewed
      </Button>
      <Button size={size} variant="secondary" icon="bolt" onClick={() => start('decision')}>
        Record decision
      </Button>
      <Button size={size} variant="secondary" icon="question-circle" onClick={() => start('question')}>
        Ask a question
      </Button>
      <Button
        size={size}
        variant="secondary"
        icon="check-square"
        onClick={() => start('outcome')}
        disabled={dueDecisions.length === 0}
        tooltip={dueDecisions.length === 0 ? 'No decision has its follow-up due' : undefined}
      >
        Record outcome
      </Button>

      <Modal
        title={`Mark ${place.dashboardTitle ?? 'this dashboard'} reviewed`}
        isOpen={open === 'review'}
        onDismiss={() => setOpen(undefined)}
      >
        <Field label="Note" description="What the team saw (optional)">
          <TextArea id="action-review-note" value={note} onChange={(e) => setNote(e.currentTarget.value)} rows={3} />
        </Field>
        <Field label="Attendees" description="Grafana logins (optional)">
          <TagsInput
            id="action-review-attendees"
            tags={attendees}
            onChange={setAttendees}
            placeholder="login, then Enter"
          />
        </Field>
        {errorBox}
        <Modal.ButtonRow>
          <Button variant="secondary" fill="outline" onClick={() => setOpen(undefined)}>
            Cancel
          </Button>
          <Button disabled={busy} onClick={() => submit((at) => reviewEvent(at, note, attendees), 'Review recorded')}>
            Mark reviewed
          </Button>
        </Modal.ButtonRow>
      </Modal>

      <Modal title="Record a decision" isOpen={open === 'decision'} onDismiss={() => setOpen(undefined)}>
        <Field label="Decision" required description="What the team decided because of what it saw">
          <TextArea id="action-decision-text" value={text} onChange={(e) => setText(e.currentTarget.value)} rows={2} />
        </Field>
        <Stack direction="row" gap={2}>
          <Field label="Owner">
            <Input
              id="action-decision-owner"
              value={owner}
              onChange={(e) => setOwner(e.currentTarget.value)}
              width={20}
            />
          </Field>
          <Field label="Follow-up on" description="When to check whether it worked">
            <Input
              id="action-decision-followup"
              type="date"
              value={followUp}
              onChange={(e) => setFollowUp(e.currentTarget.value)}
              width={20}
            />
          </Field>
        </Stack>
        <Field label="Expected effect" description="What should change, e.g. p95 latency below 300 ms">
          <Input id="action-decision-effect" value={effect} onChange={(e) => setEffect(e.currentTarget.value)} />
        </Field>
        {errorBox}
        <Modal.ButtonRow>
          <Button variant="secondary" fill="outline" onClick={() => setOpen(undefined)}>
            Cancel
          </Button>
          <Button
            disabled={busy || text.trim() === ''}
            onClick={() =>
              submit(
                (at) =>
                  decisionEvent(at, {
                    text,
                    owner,
                    expectedEffect: effect,
                    followUpAt: followUp ? Date.parse(`${followUp}T00:00:00Z`) : undefined,
                  }),
                'Decision recorded'
              )
            }
          >
            Record decision
          </Button>
        </Modal.ButtonRow>
      </Modal>

      <Modal title="Ask a question of the data" isOpen={open === 'question'} onDismiss={() => setOpen(undefined)}>
        <Field label="Question" required>
          <TextArea id="action-question-text" value={text} onChange={(e) => setText(e.currentTarget.value)} rows={2} />
        </Field>
        {errorBox}
        <Modal.ButtonRow>
          <Button variant="secondary" fill="outline" onClick={() => setOpen(undefined)}>
            Cancel
          </Button>
          <Button
            disabled={busy || text.trim() === ''}
            onClick={() => submit((at) => questionEvent(at, text), 'Question recorded')}
          >
            Ask
          </Button>
        </Modal.ButtonRow>
      </Modal>

      <Modal title="Record the outcome of a decision" isOpen={open === 'outcome'} onDismiss={() => setOpen(undefined)}>
        <Field label="Decision" required>
          <Select<string>
            inputId="action-outcome-decision"
            options={dueDecisions.map((d): SelectableValue<string> => ({
              label: d.subject,
              value: d.subject,
              description: d.detail,
            }))}
            value={decisionId ?? null}
            onChange={(v) => chooseDecision(v?.value)}
          />
        </Field>
        <Field label="Result" description="Did the metric move as the decision expected?">
          <RadioButtonGroup
            options={RESULTS.map((r) => ({ label: r.replace('_', ' '), value: r }))}
            value={result}
            onChange={setResult}
          />
        </Field>
        <Field label="What happened">
          <TextArea id="action-outcome-text" value={text} onChange={(e) => setText(e.currentTarget.value)} rows={2} />
        </Field>
        {errorBox}
        <Modal.ButtonRow>
          <Button variant="secondary" fill="outline" onClick={() => setOpen(undefined)}>
            Cancel
          </Button>
          <Button
            disabled={busy || !decisionId}
            onClick={() =>
              decisionId && submit((at) => outcomeEvent(at, { decisionId, result, text }), 'Outcome recorded')
            }
          >
            Record outcome
          </Button>
        </Modal.ButtonRow>
      </Modal>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  bar: css({ display: 'flex', flexWrap: 'wrap', gap: theme.spacing(1) }),
});
