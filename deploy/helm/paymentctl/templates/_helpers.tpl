{{/* Name of the chart, overridable. */}}
{{- define "paymentctl.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects. */}}
{{- define "paymentctl.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "paymentctl.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "paymentctl.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Labels that select the pods. */}}
{{- define "paymentctl.selectorLabels" -}}
app.kubernetes.io/name: {{ include "paymentctl.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "paymentctl.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "paymentctl.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The Secret holding the keys: yours, or the chart's. */}}
{{- define "paymentctl.secretName" -}}
{{- default (include "paymentctl.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{/* The image reference. */}}
{{- define "paymentctl.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Environment of the server and of the schema job: the non-secret settings,
then each key of the Secret but the superuser DSN, which only the schema job
gets.
*/}}
{{- define "paymentctl.env" -}}
{{- range $k, $v := .Values.config }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- $secret := include "paymentctl.secretName" . }}
{{- range $k, $_ := .Values.secret.values }}
{{- if ne $k "PAYMENT_SCHEMA_DSN" }}
- name: {{ $k }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $k }}
      optional: true
{{- end }}
{{- end }}
{{- end }}
